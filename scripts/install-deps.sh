#!/usr/bin/env bash
# Installs what the tests and benchmarks need besides the Rust toolchain, from Debian's
# packages, and only what is missing:
#   - PostgreSQL server binaries (initdb, pg_ctl): the renraku-postgres tests start a
#     throwaway cluster with them (unless DATABASE_URL names a server);
#   - Chromium and ChromeDriver: the web example's real-browser test, and axe-core from npm
#     (pinned by examples/web-server/tests/axe/package-lock.json; needs node and npm), which
#     that test runs in Chromium;
#   - nginx, curl and openssl: the web example's test of its nginx configuration
#     (tests/nginx.rs) and of TLS to PostgreSQL (tests/postgres_tls.rs);
#   - wrk: the web load test (scripts/loadtest.sh).
set -euo pipefail

have_postgres() {
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

# nginx is in /usr/sbin, which a user's PATH may lack.
have_nginx() {
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]
}

packages=()
have_postgres || packages+=(postgresql)
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || packages+=(chromium-driver)
command -v wrk >/dev/null 2>&1 || packages+=(wrk)
have_nginx || packages+=(nginx)
command -v curl >/dev/null 2>&1 || packages+=(curl)
command -v openssl >/dev/null 2>&1 || packages+=(openssl)

command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

# axe-core for tests/browser.rs, exactly the version of the lock file.
axe_dir="$(dirname "$0")/../examples/web-server/tests/axe"
install_axe() {
    [ -f "$axe_dir/node_modules/axe-core/axe.min.js" ] && return 0
    echo "install-deps: installing axe-core (npm ci in examples/web-server/tests/axe)"
    npm ci --prefix "$axe_dir" --no-audit --no-fund --loglevel=error >/dev/null
}

if [ ${#packages[@]} -eq 0 ]; then
    install_axe
    echo "install-deps: everything is installed"
    exit 0
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "install-deps: installing ${packages[*]}"
"${sudo[@]}" apt-get update -qq
# The postgresql and nginx packages would start servers of their own; the tests start theirs.
echo exit 101 | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
"${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
"${sudo[@]}" rm -f /usr/sbin/policy-rc.d

have_postgres || { echo "install-deps: PostgreSQL binaries still missing" >&2; exit 1; }
command -v chromium >/dev/null && command -v chromedriver >/dev/null || {
    echo "install-deps: chromium or chromedriver still missing" >&2
    exit 1
}
have_nginx && command -v curl >/dev/null && command -v openssl >/dev/null || {
    echo "install-deps: nginx, curl or openssl still missing" >&2
    exit 1
}
install_axe
echo "install-deps: done"
