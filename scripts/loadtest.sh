#!/usr/bin/env bash
# Load test of the web example over loopback, with wrk and a real RS256 token.
#
# Builds the release binary, starts it on the memory store (and on PostgreSQL when the
# server binaries are there: a throwaway cluster, as the tests start), fills a case, and
# drives four routes for DURATION each with CONNECTIONS connections: the heartbeat (a
# trivial route of the same server: the ceiling), the contact page, the case page and the
# JSON get. Prints requests per second, p50 and p99 latency and the ratio to the ceiling,
# and writes the table to target/loadtest.md.
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

echo "building the release binary" >&2
cargo build --release -q -p renraku-web
binary=target/release/renraku-web

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

start_server() { # $1: DATABASE_URL or empty
    local port
    port=$(free_port)
    base="http://127.0.0.1:$port"
    env -i PATH="$PATH" RUST_LOG=info RENRAKU_LISTEN="127.0.0.1:$port" \
        RENRAKU_JWT_PUBLIC_KEY="$work/public.pem" ${1:+DATABASE_URL="$1"} \
        "$binary" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        curl -fs "$base/api/heartbeat" >/dev/null 2>&1 && return 0
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
    for route in "$contact_path" /cases/loadtest-1 "/api$contact_path"; do
        read -r rps p50 p99 < <(measure "$route")
        ratio=$(awk -v a="$rps" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')
        label=$(sed -E 's#/contacts/[0-9a-f-]+#/contacts/{id}#; s#/cases/loadtest-1#/cases/{case_id}#' <<<"$route")
        echo "| $store | GET $label | $rps | $p50 | $p99 | $ratio |" >>"$report"
    done
    stop_server
done

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(date -u +%F):"
cat "$report"
