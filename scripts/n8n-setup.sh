#!/usr/bin/env bash
# Installs a pinned n8n (from the npm registry) into a cache folder outside the repository, for
# the tests of the n8n community node (integrations/n8n-nodes-threecx). Idempotent: when that
# version is already cached it only prints the path (well under a second). Prints the absolute
# path of the n8n executable on stdout (and nothing else); progress goes to stderr.
#
#   scripts/n8n-setup.sh                       # install if needed, print the n8n binary path
#   THREECX_CACHE_DIR=/elsewhere scripts/n8n-setup.sh
#   THREECX_N8N_VERSION=2.8.0 scripts/n8n-setup.sh   # another version (tests expect the pin)
#
# Cache folder: ${THREECX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/threecx}/n8n-<version>/
# (about 2.3 GB; a cold install takes about 5 minutes). The install goes to a temporary folder
# beside it that is renamed only once n8n runs, so a killed install never leaves a half cache;
# a lock file makes a second run wait for the first instead of installing twice.
#
# Why 2.8.4: it is the newest n8n whose "engines" accept Node.js 20 (">=20.19 <= 24.x"); 2.10
# to 2.35 ask for Node 22, 2.36 and later (2.41.3 is npm's latest) for Node 24. Its
# n8n-nodes-base depends on xlsx by a URL outside the npm registry, so "overrides" pins xlsx to
# the registry's 0.18.5. Scripts are skipped (--ignore-scripts: no analytics postinstall, no
# optional native builds) except sqlite3's, which is rebuilt from source against the local
# Node headers (its prebuilt binary would be downloaded from outside the registry).
set -euo pipefail

version="${THREECX_N8N_VERSION:-2.8.4}"
root="${THREECX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/threecx}"
dir="$root/n8n-$version"
bin="$dir/node_modules/.bin/n8n"

complete() {
    # A cache folder counts only once it holds the marker written after a successful check.
    [ -f "$dir/.complete" ] && [ -x "$bin" ]
}

if ! complete; then
    for tool in node npm; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "n8n-setup: $tool is not installed; install Node.js 20.19+ with npm" >&2
            exit 1
        fi
    done
    node_version="$(node --version)"
    if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
        echo "n8n-setup: n8n $version needs Node.js 20.19 or later (found $node_version)" >&2
        exit 1
    fi
    mkdir -p "$root"
    root="$(cd "$root" && pwd)"
    dir="$root/n8n-$version"
    bin="$dir/node_modules/.bin/n8n"
    # One installer at a time (two test runs may start together); the second waits, then finds
    # the cache complete.
    exec 9>"$root/n8n-$version.lock"
    if command -v flock >/dev/null 2>&1; then flock 9; fi
    if ! complete; then
        # Left-overs of a killed install (we hold the lock, so no install is running).
        rm -rf "$root/.n8n-$version.tmp."*
        if [ -e "$dir" ]; then
            # A folder without the marker (made by hand or by an older script): replace it.
            old="$root/.n8n-$version.tmp.old.$$"
            mv -T "$dir" "$old"
            rm -rf "$old"
        fi
        tmp="$(mktemp -d "$root/.n8n-$version.tmp.XXXXXX")"
        trap 'rm -rf "$tmp"' EXIT
        chmod 755 "$tmp"
        echo "n8n-setup: installing n8n $version into $dir (one time, about 5 minutes) ..." >&2
        start=$SECONDS
        cat >"$tmp/package.json" <<EOF
{
  "name": "threecx-n8n-cache",
  "private": true,
  "description": "n8n $version for the tests of n8n-nodes-threecx (made by scripts/n8n-setup.sh)",
  "dependencies": { "n8n": "$version" },
  "overrides": { "xlsx": "0.18.5" }
}
EOF
        (
            cd "$tmp"
            npm install --no-audit --no-fund --loglevel=error --omit=dev --ignore-scripts \
                --no-update-notifier >&2
            # n8n keeps its database in SQLite: build the sqlite3 binding from source (node-gyp
            # finds the headers of the running Node.js, e.g. /usr/include/node).
            npm_config_build_from_source=true npm rebuild sqlite3 --no-audit --no-fund \
                --loglevel=error --no-update-notifier >&2
        )
        got="$(node "$tmp/node_modules/n8n/bin/n8n" --version 2>/dev/null | tail -n 1 || true)"
        if [ "$got" != "$version" ]; then
            echo "n8n-setup: the install finished but 'n8n --version' printed '$got', not $version" >&2
            exit 1
        fi
        if ! (cd "$tmp" && node -e 'require("sqlite3")') >&2; then
            echo "n8n-setup: the install finished but the sqlite3 module does not load" >&2
            exit 1
        fi
        touch "$tmp/.complete"
        mv -T "$tmp" "$dir"
        trap - EXIT
        echo "n8n-setup: n8n $version installed in $((SECONDS - start)) s ($(du -sh "$dir" | cut -f1))" >&2
    fi
fi

echo "$(cd "$dir" && pwd)/node_modules/.bin/n8n"
