#!/usr/bin/env bash
# The call path before and after a change, side by side (issue 13, must-show b): builds
# `call_figures` (release) here and in BEFORE (a checkout of an earlier commit, e.g.
# `git worktree add ../before 17180e7`), then runs them alternately RUNS times (default 10),
# one round each. Each run measures the SDK's by-name Get User against bare reqwest in the same
# process (10,000 sequential calls; 20,000 calls at concurrency 64), so every ratio is side by
# side; the summary gives min / median / max of each ratio over the runs. The `*_aa_ratio` lines
# are the same ratios for two identical bare reqwest clients: the spread and bias of the harness.
#
# Usage: bash scripts/bench-call-path.sh BEFORE [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
before="$(cd "${1:?usage: bench-call-path.sh BEFORE [RUNS]}" && pwd)"
runs="${2:-10}"
out="target/bench-call-path"
mkdir -p "$out"
for dir in "$before" "$PWD"; do
  (cd "$dir" && cargo build --release --quiet -p threecx-benches --bin call_figures)
done
bin_before="$before/target/release/call_figures"
bin_after="$PWD/target/release/call_figures"
: > "$out/runs.txt"
for i in $(seq "$runs"); do
  for side in before after; do
    bin="bin_$side"
    "${!bin}" --rounds 1 | sed "s/^/$side $i /" >> "$out/runs.txt"
  done
done
python3 - "$out/runs.txt" <<'PY'
import statistics, sys
vals = {}
for line in open(sys.argv[1]):
    side, _, kv = line.split(" ", 2)
    k, v = kv.strip().split("=")
    vals.setdefault((side, k), []).append(float(v))
keys = ["con_ratio", "con_aa_ratio", "con_cpu_ratio", "seq_ratio", "seq_aa_ratio",
        "seq_cpu_ratio", "con_sdk_calls_per_s",
        "con_bare_calls_per_s", "con_sdk_cpu_us_per_call", "con_sdk_request_cpu_us_per_call",
        "con_bare_timeouts_cpu_us_per_call", "con_bare_cpu_us_per_call",
        "seq_sdk_cpu_us_per_call", "seq_sdk_request_cpu_us_per_call",
        "seq_bare_timeouts_cpu_us_per_call", "seq_bare_cpu_us_per_call"]
print(f"{'figure':28} {'side':6} {'min':>9} {'median':>9} {'max':>9}  (n)")
for k in keys:
    for side in ("before", "after"):
        v = vals.get((side, k), [])
        if v:
            print(f"{k:28} {side:6} {min(v):9.3f} {statistics.median(v):9.3f} {max(v):9.3f}  ({len(v)})")
PY
