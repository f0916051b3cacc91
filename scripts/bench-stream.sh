#!/usr/bin/env bash
# Whole-process figure for `threecx call ... --all --output ndjson`: wall time and client peak
# RSS while streaming N items (default 10,000) from a paged loopback server.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
port="${PORT:-18731}"
cargo build --release --quiet -p threecx-cli
python3 scripts/paged_pbx.py "$port" "$n" & server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
out="$(mktemp)"
THREECX_URL="http://127.0.0.1:$port" THREECX_CLIENT_ID=bench THREECX_CLIENT_SECRET=bench \
  /usr/bin/time -v ./target/release/threecx call Users "List User" --all --page-size 100 --output ndjson \
  > "$out" 2> "$out.time"
echo "items streamed: $(wc -l < "$out")"
grep -E 'Elapsed \(wall clock\)|Maximum resident set size' "$out.time"
rm -f "$out" "$out.time"
