#!/usr/bin/env bash
# Figures of "Many PBXs, many versions" in BENCHMARKS.md, in one command:
#  1. the run-time import of the 20.0.10 document (time; peak RSS of one import);
#  2. `threecx list` start-up with a pulled (cached) spec, and with --spec builtin (hyperfine);
#  3. a fleet of PROFILES profiles (default 100) over 10 loopback sandboxes (PROFILES/10 profiles,
#     one client each, per sandbox): `spec pull` and `call Users "List User"` with
#     --all-profiles --concurrency 16, wall time and peak RSS, against one PBX alone.
#
#   scripts/bench-spec.sh [PROFILES]
set -euo pipefail
cd "$(dirname "$0")/.."
profiles="${1:-100}"
sandboxes=10
base_port="${PORT:-18800}"
spec_file=../shared/xapi/swagger-20.0.10.yaml
bin=./target/release/threecx
command -v hyperfine >/dev/null || { echo "hyperfine is needed: cargo install --locked hyperfine@1.20.0" >&2; exit 1; }

cargo build --release --quiet -p threecx-cli
cargo build --release --quiet -p threecx-benches --bin spec_import
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

field() { grep -E "$1" "$2" | sed -E 's/.*: //'; }
kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

echo "== 1. run-time import of $(basename "$spec_file")"
./target/release/spec_import "$spec_file" 5
/usr/bin/time -v -o "$work/import.time" ./target/release/spec_import "$spec_file" 1 >/dev/null
echo "peak RSS of a process importing it once: $(kib_to_mib "$(field 'Maximum resident set size' "$work/import.time")")"

echo
echo "== 2. start-up of threecx list with a pulled spec"
# The document served under its own name, so the sandbox reports its version.
cp "$spec_file" "$work/swagger-20.0.10.yaml"
for i in $(seq 0 $((sandboxes - 1))); do
  port=$((base_port + i))
  "$bin" sandbox --port "$port" --users 25 --call-history 10 --chat-messages 10 \
    --one-active-token false --spec "$work/swagger-20.0.10.yaml" > "$work/sandbox-$i.out" 2>&1 &
  pids+=($!)
done
for i in $(seq 0 $((sandboxes - 1))); do
  for _ in $(seq 100); do grep -q "Press Ctrl-C" "$work/sandbox-$i.out" && break; sleep 0.1; done
  grep -q "Press Ctrl-C" "$work/sandbox-$i.out" || { cat "$work/sandbox-$i.out" >&2; exit 1; }
done

export THREECX_SPEC_CACHE="$work/specs" THREECX_TOKEN_CACHE="$work/tokens"
export THREECX_CONFIG="$work/config.toml"
for p in $(seq 0 $((profiles - 1))); do
  port=$((base_port + p % sandboxes))
  printf '[profiles.p%d]\nurl = "http://127.0.0.1:%d"\nclient_id = "sandbox"\nclient_secret = "sandbox-secret"\n\n' \
    "$p" "$port" >> "$THREECX_CONFIG"
done
"$bin" --profile p0 spec pull
hyperfine -N --warmup 3 --runs 30 \
  "$bin --profile p0 list" \
  "$bin --profile p0 --spec builtin list"

echo
echo "== 3. a fleet of $profiles profiles over $sandboxes sandboxes, --concurrency 16"
/usr/bin/time -v -o "$work/pull.time" "$bin" --all-profiles spec pull --concurrency 16 \
  > "$work/pull.ndjson" 2> "$work/pull.err"
tail -1 "$work/pull.err"
echo "spec pull: wall $(field 'Elapsed \(wall clock\)' "$work/pull.time"), peak RSS $(kib_to_mib "$(field 'Maximum resident set size' "$work/pull.time")")"
hyperfine -N --warmup 2 --runs 10 --export-json "$work/one.json" \
  "$bin --profile p0 call Users 'List User' --output ndjson"
/usr/bin/time -v -o "$work/fleet.time" "$bin" --all-profiles --concurrency 16 \
  call Users "List User" --output ndjson > "$work/fleet.ndjson" 2> "$work/fleet.err"
tail -1 "$work/fleet.err"
lines="$(wc -l < "$work/fleet.ndjson")"
errors="$(grep -c '"error"' "$work/fleet.ndjson" || true)"
echo "fleet call: $lines lines ($errors errors), wall $(field 'Elapsed \(wall clock\)' "$work/fleet.time"), peak RSS $(kib_to_mib "$(field 'Maximum resident set size' "$work/fleet.time")"), CPU $(field 'User time' "$work/fleet.time") s user + $(field 'System time' "$work/fleet.time") s system"
[ "$errors" -eq 0 ] || { echo "error: some PBXs failed" >&2; exit 1; }
