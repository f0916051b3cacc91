#!/usr/bin/env bash
# Installs the Prism mock server (@stoplight/prism-cli 5.x, from the npm registry) into the
# git-ignored folder .prism/ at the repository root, for the contract test (tests/contract).
# Idempotent: when a 5.x Prism is already there it only prints its path. Prints the path of the
# prism binary on stdout (and nothing else); progress goes to stderr.
#
#   scripts/prism-setup.sh            # install if needed, print the binary path
#   PRISM_DIR=/elsewhere scripts/prism-setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${PRISM_DIR:-.prism}"
bin="$dir/node_modules/.bin/prism"
manifest="$dir/node_modules/@stoplight/prism-cli/package.json"

installed_major() {
    # The "version" of the installed package, major part only; empty when not installed.
    [ -x "$bin" ] && [ -f "$manifest" ] || return 0
    sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([0-9]*\)\..*/\1/p' "$manifest" | head -n 1
}

if [ "$(installed_major)" != "5" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "prism-setup: npm is not installed; install Node.js 18+ with npm (https://nodejs.org)" \
             "or set PRISM_BIN to a Prism 5.x binary" >&2
        exit 1
    fi
    mkdir -p "$dir"
    # One installer at a time (two test runs may start together).
    exec 9>"$dir/.install.lock"
    if command -v flock >/dev/null 2>&1; then flock 9; fi
    if [ "$(installed_major)" != "5" ]; then
        echo "prism-setup: installing @stoplight/prism-cli@5 into $dir (one time) ..." >&2
        npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
            "@stoplight/prism-cli@5" >&2
    fi
    if [ "$(installed_major)" != "5" ]; then
        echo "prism-setup: the install finished but $bin (Prism 5.x) is missing" >&2
        exit 1
    fi
fi

echo "$(cd "$(dirname "$bin")" && pwd)/prism"
