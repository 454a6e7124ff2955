#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ (or the ones named) for SECONDS each, and fails if any of
# them crashes, panics or times out. CI runs it with 20 s a target; run it longer by hand:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      # e.g. scripts/fuzz.sh 600 memory_ops
#
# It needs the nightly toolchain and installs cargo-fuzz if it is missing. Each target starts
# from its committed seeds (fuzz/corpus/TARGET, read only) and the inputs found by earlier
# runs on this machine (fuzz/target/corpus/TARGET, where new ones go), with the dictionary
# fuzz/dict/TARGET.dict. A crash leaves its input in fuzz/artifacts/TARGET/; replay it with
# `cargo +nightly fuzz run -s none -a TARGET fuzz/artifacts/TARGET/crash-…`.
#
# Environment: FUZZ_SANITIZER (default none: renraku and its examples forbid unsafe code,
# and without AddressSanitizer the build is faster and each run about twice as fast; use
# `address` to also check the dependencies' unsafe code), FUZZ_TOOLCHAIN (default nightly).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
toolchain=${FUZZ_TOOLCHAIN:-nightly}
sanitizer=${FUZZ_SANITIZER:-none}
# Release builds with debug assertions and overflow checks (-a).
flags=(--sanitizer "$sanitizer" --debug-assertions)

if ! cargo +"$toolchain" fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo +"$toolchain" install cargo-fuzz --locked --version 0.13.2
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +"$toolchain" fuzz list)
fi

start=$SECONDS
cargo +"$toolchain" fuzz build "${flags[@]}"
echo "fuzz build: $((SECONDS - start)) s"

failed=()
summary=()
for target in "${targets[@]}"; do
    work=fuzz/target/corpus/$target
    mkdir -p "$work" "fuzz/corpus/$target"
    log=fuzz/target/$target.log
    echo "=== $target: ${seconds} s"
    status=0
    cargo +"$toolchain" fuzz run "${flags[@]}" "$target" "$work" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -dict="fuzz/dict/$target.dict" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | tr -d 'cov: ')
    line="$target: ${runs:-?} executions, ${rate:-?} exec/s, coverage ${cov:-?}"
    if [ "$status" -ne 0 ]; then
        failed+=("$target")
        line="$line, FAILED (exit $status)"
        tail -n 60 "$log"
    fi
    echo "$line"
    summary+=("$line")
done

echo
echo "=== fuzzing, ${seconds} s a target"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "crashed: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "${#targets[@]} targets, 0 crashes"
