#!/usr/bin/env bash
# The HTTP gateway's own cost per call, two builds side by side: one sandbox PBX (200 users),
# then for each round a `threecx serve` of BEFORE and one of this checkout, each driven by
# scripts/gateway_load.py (sequential calls over one keep-alive connection, from Python).
# Cases: Update User (an input schema with 43 models) and List User with $top=100 (a 100-item
# answer). Prints each round's calls/s and median latency, then the medians per side.
#
# Usage: bash scripts/bench-gateway.sh BEFORE [ROUNDS] [CALLS]
#   BEFORE: a checkout of an earlier commit (e.g. `git worktree add ../before d5f8061`).
set -euo pipefail
cd "$(dirname "$0")/.."
before="$(cd "${1:?usage: bench-gateway.sh BEFORE [ROUNDS] [CALLS]}" && pwd)"
rounds="${2:-5}"
calls="${3:-2000}"
for dir in "$before" "$PWD"; do
  (cd "$dir" && cargo build --release --quiet -p threecx-cli)
done
work="$(mktemp -d)"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# First line printed by a server: "... on http://127.0.0.1:PORT ...".
port_of() { # log file
  for _ in $(seq 100); do
    if port=$(grep -o 'http://127.0.0.1:[0-9]*' "$1" | head -1 | cut -d: -f3) && [ -n "$port" ]; then
      echo "$port"; return
    fi
    sleep 0.1
  done
  echo "no address in $1" >&2; exit 1
}

target/release/threecx sandbox --port 0 --users 200 > "$work/pbx.log" 2>&1 &
pids+=($!)
pbx="http://127.0.0.1:$(port_of "$work/pbx.log")"
export THREECX_URL="$pbx" THREECX_CLIENT_ID=sandbox THREECX_CLIENT_SECRET=sandbox-secret
export THREECX_GATEWAY_KEY=bench-gateway-key-0123456789

cases=(
  'Users|Update User|{"Id": 1, "body": {"FirstName": "Ada", "LastName": "Lovelace"}}'
  'Users|List User|{"$top": 100}'
)
: > "$work/results.txt"
for round in $(seq "$rounds"); do
  for side in before after; do
    bin="$PWD/target/release/threecx"
    [ "$side" = before ] && bin="$before/target/release/threecx"
    "$bin" serve --listen 127.0.0.1:0 --spec builtin --no-audit-log > "$work/gw.log" 2>&1 &
    gw=$!
    port=$(port_of "$work/gw.log")
    for case in "${cases[@]}"; do
      IFS='|' read -r resource action input <<< "$case"
      python3 scripts/gateway_load.py "$port" "$THREECX_GATEWAY_KEY" 200 "$resource" "$action" "$input" > /dev/null
      python3 scripts/gateway_load.py "$port" "$THREECX_GATEWAY_KEY" "$calls" "$resource" "$action" "$input" \
        | sed "s/^/$side $round $action /" | tee -a "$work/results.txt"
    done
    kill "$gw"; wait "$gw" 2>/dev/null || true
  done
done
python3 scripts/gateway_load.py --summary "$work/results.txt"
