#!/usr/bin/env bash
# Streams the whole call history of a simulated PBX through the CLI and reports both sides:
# items received, client wall time and peak RSS, sandbox wall time and peak RSS.
#
#   scripts/bench-sandbox-stream.sh [ROWS] [PAGE_SIZE]     (defaults 1000000 and 1000)
#   FORMAT=csv scripts/bench-sandbox-stream.sh 100000 1000  (--output csv: a header, then rows)
#
# The sandbox (`threecx sandbox --call-history ROWS`) computes its rows on demand; the client
# (`threecx call "Call History View" "List Call History View" --all --output ndjson`) writes each
# row as it arrives. Both run under /usr/bin/time -v; the sandbox is stopped with SIGINT (Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
page="${2:-1000}"
format="${FORMAT:-ndjson}"
port="${PORT:-18732}"
bin=./target/release/threecx

cargo build --release --quiet -p threecx-cli
work="$(mktemp -d)"
sandbox_time=""
cleanup() {
  # Still running after a failure: Ctrl-C, then (a SIGINT that came before the sandbox was
  # listening for it is ignored in a background job) SIGTERM.
  if [ -n "${sandbox:-}" ] && kill -0 "$sandbox" 2>/dev/null; then
    kill -INT "$sandbox" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$sandbox" 2>/dev/null || break; sleep 0.1; done
    kill -TERM "$sandbox" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

/usr/bin/time -v -o "$work/sandbox.time" "$bin" sandbox --port "$port" --call-history "$rows" \
  > "$work/sandbox.out" 2>&1 &
timer=$!
# The sandbox process itself (GNU time ignores SIGINT while it waits for its child).
sandbox=""
for _ in $(seq 100); do
  sandbox="$(ps -o pid= --ppid "$timer" | tr -d ' ' || true)"
  # The banner is printed once it listens.
  [ -n "$sandbox" ] && grep -q "Press Ctrl-C" "$work/sandbox.out" && break
  sleep 0.1
done
if ! grep -q "Press Ctrl-C" "$work/sandbox.out"; then
  echo "the sandbox did not start:" >&2
  cat "$work/sandbox.out" >&2
  exit 1
fi

THREECX_URL="http://127.0.0.1:$port" THREECX_CLIENT_ID=sandbox THREECX_CLIENT_SECRET=sandbox-secret \
  /usr/bin/time -v -o "$work/client.time" "$bin" --no-token-cache \
  call "Call History View" "List Call History View" --all --page-size "$page" --output "$format" \
  > "$work/items.out"
items="$(wc -l < "$work/items.out")"
# CSV: the header line is not an item (call-history fields hold no line breaks).
if [ "$format" = csv ]; then items=$((items - 1)); fi

kill -INT "$sandbox"
wait "$timer" || true
sandbox=""

field() { grep -E "$1" "$2" | sed -E 's/.*: //'; }
kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
echo "rows in the sandbox:  $rows (page size $page, --output $format)"
echo "items streamed:       $items"
echo "client wall time:     $(field 'Elapsed \(wall clock\)' "$work/client.time")"
echo "client CPU time:      $(field 'User time' "$work/client.time") s user, $(field 'System time' "$work/client.time") s system"
echo "client peak RSS:      $(kib_to_mib "$(field 'Maximum resident set size' "$work/client.time")")"
echo "sandbox wall time:    $(field 'Elapsed \(wall clock\)' "$work/sandbox.time") (start to Ctrl-C)"
echo "sandbox CPU time:     $(field 'User time' "$work/sandbox.time") s user, $(field 'System time' "$work/sandbox.time") s system"
echo "sandbox peak RSS:     $(kib_to_mib "$(field 'Maximum resident set size' "$work/sandbox.time")")"
[ "$items" -eq "$rows" ] || { echo "error: expected $rows items" >&2; exit 1; }
