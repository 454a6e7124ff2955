#!/usr/bin/env bash
# Load test of the web example over loopback, with wrk and a real RS256 token.
#
# Builds the release binary, starts it on the memory store (and on PostgreSQL when the
# server binaries are there: a throwaway cluster, as the tests start), fills a case, and
# drives four routes for DURATION each with CONNECTIONS connections: the heartbeat (a
# trivial route of the same server: the ceiling), the contact page, the case page and the
# JSON get. On PostgreSQL it then drives the same three routes of the baseline
# (benches/src/bin/web_baseline.rs: hand-written sqlx and plain HTML on the same database),
# and the baseline's JSON get through renraku-postgres (the library's share of the gap).
# Prints requests per second, p50 and p99 latency, the ratio to the ceiling and to the
# baseline against the targets of issue 16, and writes the table to target/loadtest.md.
#
#   scripts/loadtest.sh              # memory, then PostgreSQL if available
#   STORES=memory scripts/loadtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
STORES=${STORES:-"memory postgres"}

command -v wrk >/dev/null || { echo "wrk is missing: run scripts/install-deps.sh" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl is missing" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
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

start_server() { # $1: DATABASE_URL or empty; $2: the binary (renraku-web by default)
    local port
    port=$(free_port)
    base="http://127.0.0.1:$port"
    env -i PATH="$PATH" RUST_LOG=info RENRAKU_LISTEN="127.0.0.1:$port" \
        RENRAKU_JWT_PUBLIC_KEY="$work/public.pem" ${1:+DATABASE_URL="$1"} \
        "${2:-$binary}" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        # Any answer will do: the baseline has no heartbeat (404).
        curl -s -o /dev/null "$base/api/heartbeat" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "the server did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
}

stop_server() {
    kill "$server_pid"
    wait "$server_pid" || true
    server_pid=""
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

# Prints "requests_per_second p50_ms p99_ms" for one route.
measure() {
    local out
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $token" "$base$1")
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
{
    echo "| route | renraku-web (requests/s) | baseline (requests/s) | ratio | target | renraku-web p99 (ms) | p99 < 10 ms | baseline p99 (ms) |"
    echo "|---|---|---|---|---|---|---|---|"
} >"$baseline_report"

label() { sed -E 's#/contacts/[0-9a-f-]+#/contacts/{id}#; s#/cases/loadtest-1#/cases/{case_id}#' <<<"$1"; }
declare -A target=([contact]=0.7 [case]=0.6 [json]=0.8)

for store in $STORES; do
    url=""
    if [ "$store" = postgres ]; then
        url=$(start_postgres) || { echo "no PostgreSQL binaries: skipping the PostgreSQL run" >&2; continue; }
    fi
    start_server "$url"
    fill_case loadtest-1
    echo "$store: case loadtest-1 filled; contact $contact_path" >&2
    read -r ceiling p50 p99 < <(measure /api/heartbeat)
    echo "| $store | GET /api/heartbeat (ceiling) | $ceiling | $p50 | $p99 | 1.00 |" >>"$report"
    declare -A ours=() ours_p99=()
    for route in "$contact_path" /cases/loadtest-1 "/api$contact_path"; do
        read -r rps p50 p99 < <(measure "$route")
        ratio=$(awk -v a="$rps" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')
        echo "| $store | GET $(label "$route") | $rps | $p50 | $p99 | $ratio |" >>"$report"
        ours[$route]=$rps ours_p99[$route]=$p99
    done
    stop_server
    [ "$store" = postgres ] || continue
    # The same routes of the baseline, on the same database and case, in the same run.
    start_server "$url" "$baseline_binary"
    for kind in contact case json; do
        case $kind in
            contact) route=$contact_path ;;
            case) route=/cases/loadtest-1 ;;
            json) route="/api$contact_path" ;;
        esac
        read -r rps p50 p99 < <(measure "$route")
        echo "| baseline | GET $(label "$route") | $rps | $p50 | $p99 | |" >>"$report"
        ratio=$(awk -v a="${ours[$route]}" -v b="$rps" 'BEGIN { printf "%.2f", a / b }')
        met=$(awk -v r="$ratio" -v t="${target[$kind]}" 'BEGIN { print (r >= t) ? "met" : "**missed**" }')
        fast=$(awk -v p="${ours_p99[$route]}" 'BEGIN { print (p < 10) ? "yes" : "**no**" }')
        echo "| GET $(label "$route") | ${ours[$route]} | $rps | $ratio | ≥ ${target[$kind]}: $met | ${ours_p99[$route]} | $fast | $p99 |" >>"$baseline_report"
        [ "$kind" = json ] && baseline_json=$rps
    done
    # The minimal server's JSON get through renraku-postgres: the library's share of the gap.
    route="/library$contact_path"
    read -r rps p50 p99 < <(measure "$route")
    echo "| baseline | GET $(label "$route") | $rps | $p50 | $p99 | |" >>"$report"
    ratio=$(awk -v a="$rps" -v b="$baseline_json" 'BEGIN { printf "%.2f", a / b }')
    echo "| GET /api/cases/{case_id}/contacts/{id} with renraku-postgres in the baseline server | $rps | $baseline_json | $ratio | (the library alone) | $p99 | | |" >>"$baseline_report"
    stop_server
done

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(date -u +%F):"
cat "$report"
if [ "$(wc -l <"$baseline_report")" -gt 2 ]; then
    echo
    echo "renraku-web on PostgreSQL against the baseline (hand-written sqlx, plain HTML), same run:"
    echo
    cat "$baseline_report"
    { echo; cat "$baseline_report"; } >>"$report"
fi
