#!/usr/bin/env bash
# Load test of the web example over loopback, with wrk and a real RS256 token.
#
# Builds the release binary, starts it on the memory store (and on PostgreSQL when the
# server binaries are there: a throwaway cluster, as the tests start), fills a case, and
# drives four routes for DURATION each with CONNECTIONS connections: the heartbeat (a
# trivial route of the same server: the ceiling), the contact page, the case page and the
# JSON get. On PostgreSQL the baseline (benches/src/bin/web_baseline.rs: hand-written sqlx
# and plain HTML on the same database) runs beside it, and each route is driven on
# renraku-web and right after on the baseline, ROUNDS times: this machine's speed drifts
# by a fifth within minutes, so only measurements taken side by side are compared (the
# ratio is the median of the rounds' ratios). Last, the baseline's JSON get through
# renraku-postgres (the library's share of the gap), also beside the hand-written one.
# Prints requests per second, p50 and p99 latency, the ratio to the ceiling and to the
# baseline against the targets of issue 16, and writes the table to target/loadtest.md.
#
#   scripts/loadtest.sh              # memory, then PostgreSQL if available
#   STORES=memory scripts/loadtest.sh
#   ROUNDS=1 DURATION=5s scripts/loadtest.sh   # quicker, noisier
#   RUST_LOG=warn scripts/loadtest.sh          # renraku-web without its line per request
#   INSTRUCTIONS=1 STORES=postgres scripts/loadtest.sh
#       # also instructions per request of both servers under valgrind's callgrind:
#       # repeatable where requests/s are not (about 4 more minutes; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
STORES=${STORES:-"memory postgres"}
ROUNDS=${ROUNDS:-3}
INSTRUCTIONS=${INSTRUCTIONS:-}

command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps.sh" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl is missing" >&2; exit 1; }
if [ -n "$INSTRUCTIONS" ] && ! command -v callgrind_control >/dev/null; then
    echo "INSTRUCTIONS=1 needs valgrind: apt-get install valgrind" >&2
    exit 1
fi

work=$(mktemp -d)
server_pids=()
cleanup() {
    for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    if [ -f "$work/pg/data/PG_VERSION" ]; then
        as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "building the release binaries" >&2
cargo build --release -q -p renraku-web -p renraku-benches --bin renraku-web --bin web_baseline
binary=target/release/renraku-web
baseline_binary=target/release/web_baseline

# A key pair for this run, and a token the identity provider would issue.
openssl genrsa -out "$work/private.pem" 2048 2>/dev/null
openssl rsa -in "$work/private.pem" -pubout -out "$work/public.pem" 2>/dev/null
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
header=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
payload=$(printf '{"sub":{"id":"loadtest"},"iss":"parc-cli","exp":%d}' $(($(date +%s) + 3600)) | b64url)
signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$work/private.pem" | b64url)
token="$header.$payload.$signature"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {
    [ -x "$pg_bin/initdb" ] || return 1
    mkdir -p "$work/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$work" "$work/pg"
    local port
    port=$(free_port)
    as_pg "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
    as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
        -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
}

# $1: DATABASE_URL or empty; $2: the binary (renraku-web by default); any more arguments:
# a command to run it under (valgrind). Sets $base and $server_pid.
start_server() {
    local port log
    port=$(free_port)
    base="http://127.0.0.1:$port"
    log="$work/server-$port.log"
    env -i PATH="$PATH" RUST_LOG="${RUST_LOG:-info}" RENRAKU_LISTEN="127.0.0.1:$port" \
        RENRAKU_JWT_PUBLIC_KEY="$work/public.pem" ${1:+DATABASE_URL="$1"} \
        "${@:3}" "${2:-$binary}" >"$log" 2>&1 &
    server_pid=$!
    server_pids+=($!)
    for _ in $(seq 300); do
        # Any answer will do: the baseline has no heartbeat (404).
        curl -s -o /dev/null "$base/api/heartbeat" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "the server did not start:" >&2
    cat "$log" >&2
    exit 1
}

stop_servers() {
    for pid in "${server_pids[@]}"; do kill "$pid"; wait "$pid" || true; done
    server_pids=()
}

stop_server() { # $1: its pid
    kill "$1"
    wait "$1" || true
    local pids=() pid
    for pid in "${server_pids[@]}"; do [ "$pid" = "$1" ] || pids+=("$pid"); done
    server_pids=("${pids[@]}")
}

# One case with 200 contacts, created through the API as a host would.
fill_case() {
    local case_id=$1 i location
    for i in $(seq 1 200); do
        location=$(curl -fs -o /dev/null -w '%header{location}' -X POST "$base/api/cases/$case_id/contacts" \
            -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -d "{\"title\":\"Frau\",\"first_name\":\"Zoë\",\"last_name\":\"Müller\",\"phone\":\"030 $((2000000 + i))\",\"email\":\"person$i@example.org\",\"address\":\"Hauptstraße $i, 10115 Berlin\",\"relationship\":\"household\"}")
    done
    contact_path=${location#/api}
}

# The cookie a browser keeps after its first page (the CSRF cookie), sent with every
# request as a case worker's browser does; without it each page would make a new one.
browser_cookie() {
    curl -fs -o /dev/null -D - -H "Authorization: Bearer $token" "$base$contact_path" |
        awk -F'[:;] *' 'tolower($1) == "set-cookie" { print $2; exit }'
}

# Prints "requests_per_second p50_ms p99_ms" for one route ($1) of a server ($2, $base by
# default).
measure() {
    local out
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${wrk_headers[@]}" "${2:-$base}$1")
    if grep -q "Non-2xx" <<<"$out"; then
        echo "$1 answered errors:" >&2
        echo "$out" >&2
        exit 1
    fi
    local rps p50 p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}

# Instructions per request of a server ($2: binary; $1: DATABASE_URL) on a route ($3),
# counted by valgrind's callgrind over DURATION after a warm-up, 8 connections. They repeat
# to within about a percent where requests per second drift by a fifth, so they show
# what a change saves. valgrind runs SHA-256 without the CPU's SHA instructions: the
# token cache's hash counts about 27,000 instructions per request that take 0.4 µs natively.
instructions() {
    local counts="$work/callgrind" out requests total
    start_server "$1" "$2" valgrind --tool=callgrind --callgrind-out-file="$counts.%p"
    wrk -t1 -c8 -d3s "${wrk_headers[@]}" "$base$3" >/dev/null
    callgrind_control -z "$server_pid" >/dev/null 2>&1
    out=$(wrk -t1 -c8 -d"$DURATION" "${wrk_headers[@]}" "$base$3")
    callgrind_control -d "$server_pid" >/dev/null 2>&1
    for _ in $(seq 50); do [ -s "$counts.$server_pid.1" ] && break; sleep 0.1; done
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    total=$(awk '/^summary:/ {print $2}' "$counts.$server_pid.1")
    stop_server "$server_pid"
    rm -f "$counts".*
    echo $((total / requests))
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Drives a route of renraku-web ($1: base URL) and of the baseline ($2: base URL, $4: its
# route, $3 by default) alternately, ROUNDS times; prints the medians "ours ours_p50
# ours_p99 theirs theirs_p50 theirs_p99 ratio", the ratio being the median of the rounds'.
side_by_side() {
    local ours=() theirs=() ratios=() i rps p50 p99
    for i in $(seq "$ROUNDS"); do
        read -r rps p50 p99 < <(measure "$3" "$1")
        ours+=("$rps $p50 $p99")
        read -r rps p50 p99 < <(measure "${4:-$3}" "$2")
        theirs+=("$rps $p50 $p99")
        ratios+=("$(awk -v a="${ours[-1]%% *}" -v b="$rps" 'BEGIN { printf "%.4f", a / b }')")
        echo "  round $i of $1$3: ${ours[-1]%% *} against ${theirs[-1]%% *} requests/s (${ratios[-1]})" >&2
    done
    local column out=""
    for column in 1 2 3; do
        out+="$(printf '%s\n' "${ours[@]}" | awk -v c=$column '{ print $c }' | median) "
    done
    for column in 1 2 3; do
        out+="$(printf '%s\n' "${theirs[@]}" | awk -v c=$column '{ print $c }' | median) "
    done
    echo "$out$(printf '%s ' "${ratios[@]}" | median)"
}

to_ms() { # wrk prints 812.00us, 1.20ms or 1.01s
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else { sub(/s$/, "", v); printf "%.3f", v * 1000 } }'
}

report="target/loadtest.md"
mkdir -p target
{
    echo "| store | route | requests/s | p50 (ms) | p99 (ms) | ratio to ceiling |"
    echo "|---|---|---|---|---|---|"
} >"$report"
baseline_report="$work/baseline.md"
baseline_rows="$work/baseline-rows.md"
: >"$baseline_rows"
{
    echo "| route | renraku-web (requests/s) | baseline (requests/s) | ratio | target | renraku-web p99 (ms) | p99 < 10 ms | baseline p99 (ms) |"
    echo "|---|---|---|---|---|---|---|---|"
} >"$baseline_report"

route_of() { # $1: contact, case or json
    case $1 in
        contact) echo "$contact_path" ;;
        case) echo /cases/loadtest-1 ;;
        json) echo "/api$contact_path" ;;
    esac
}

instructions_report="$work/instructions.md"
{
    echo "| route | renraku-web (instructions/request) | baseline (instructions/request) | renraku-web / baseline |"
    echo "|---|---|---|---|"
} >"$instructions_report"

label() { sed -E 's#/contacts/[0-9a-f-]+#/contacts/{id}#; s#/cases/loadtest-1#/cases/{case_id}#' <<<"$1"; }
declare -A target=([contact]=0.7 [case]=0.6 [json]=0.8)

for store in $STORES; do
    url=""
    if [ "$store" = postgres ]; then
        url=$(start_postgres) || { echo "no PostgreSQL binaries: skipping the PostgreSQL run" >&2; continue; }
    fi
    start_server "$url"
    ours_base=$base
    fill_case loadtest-1
    cookie=$(browser_cookie)
    # The token and the cookie, as a case worker's browser sends them, on every wrk run.
    wrk_headers=(-H "Authorization: Bearer $token" ${cookie:+-H "Cookie: $cookie"})
    echo "$store: case loadtest-1 filled; contact $contact_path; cookie ${cookie%%=*}" >&2
    read -r ceiling p50 p99 < <(measure /api/heartbeat)
    echo "| $store | GET /api/heartbeat (ceiling) | $ceiling | $p50 | $p99 | 1.00 |" >>"$report"
    if [ "$store" != postgres ]; then
        for route in "$contact_path" /cases/loadtest-1 "/api$contact_path"; do
            read -r rps p50 p99 < <(measure "$route")
            ratio=$(awk -v a="$rps" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')
            echo "| $store | GET $(label "$route") | $rps | $p50 | $p99 | $ratio |" >>"$report"
        done
        stop_servers
        continue
    fi
    # The baseline beside it, on the same database and case; each route side by side.
    start_server "$url" "$baseline_binary"
    baseline_base=$base
    for kind in contact case json; do
        route=$(route_of $kind)
        read -r rps p50 p99 b_rps b_p50 b_p99 ratio < <(side_by_side "$ours_base" "$baseline_base" "$route")
        ceiling_ratio=$(awk -v a="$rps" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')
        echo "| $store | GET $(label "$route") | $rps | $p50 | $p99 | $ceiling_ratio |" >>"$report"
        echo "| baseline | GET $(label "$route") | $b_rps | $b_p50 | $b_p99 | |" >>"$baseline_rows"
        ratio=$(awk -v r="$ratio" 'BEGIN { printf "%.2f", r }')
        met=$(awk -v r="$ratio" -v t="${target[$kind]}" 'BEGIN { print (r >= t) ? "met" : "**missed**" }')
        fast=$(awk -v p="$p99" 'BEGIN { print (p < 10) ? "yes" : "**no**" }')
        echo "| GET $(label "$route") | $rps | $b_rps | $ratio | ≥ ${target[$kind]}: $met | $p99 | $fast | $b_p99 |" >>"$baseline_report"
    done
    # The minimal server's JSON get through renraku-postgres beside its hand-written one:
    # the library's share of the gap.
    route="/api$contact_path"
    read -r rps p50 p99 b_rps b_p50 b_p99 ratio < <(side_by_side "$baseline_base" "$baseline_base" "/library${route#/api}" "$route")
    echo "| baseline | GET $(label "/library${route#/api}") | $rps | $p50 | $p99 | |" >>"$baseline_rows"
    ratio=$(awk -v r="$ratio" 'BEGIN { printf "%.2f", r }')
    echo "| GET /api/cases/{case_id}/contacts/{id} with renraku-postgres in the baseline server | $rps | $b_rps | $ratio | (the library alone) | $p99 | | $b_p99 |" >>"$baseline_report"
    cat "$baseline_rows" >>"$report"
    stop_servers
    if [ -n "$INSTRUCTIONS" ]; then
        for kind in contact case json; do
            route=$(route_of $kind)
            ours=$(instructions "$url" "$binary" "$route")
            theirs=$(instructions "$url" "$baseline_binary" "$route")
            echo "  instructions per request of $(label "$route"): $ours against $theirs" >&2
            echo "| GET $(label "$route") | $ours | $theirs | $(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }') |" >>"$instructions_report"
        done
    fi
done

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds side by side, RUST_LOG=${RUST_LOG:-info}, on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(date -u +%F):"
cat "$report"
# Prints a table ($2) under its title ($1) and appends it to the report, if it has rows.
section() {
    [ "$(wc -l <"$2")" -gt 2 ] || return 0
    printf '\n%s\n\n' "$1"
    cat "$2"
    { echo; cat "$2"; } >>"$report"
}
section "renraku-web on PostgreSQL against the baseline (hand-written sqlx, plain HTML), same run:" "$baseline_report"
section "Instructions per request under callgrind (wrk -t1 -c8 -d$DURATION after a warm-up; SHA-256 without the CPU's SHA instructions):" "$instructions_report"
