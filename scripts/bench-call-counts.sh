#!/usr/bin/env bash
# Allocations and instructions per call, by variant (issue 13, must-show b): counts, not times,
# so they do not move with the machine's speed. Each variant of `call_figures` makes 1,000 and
# then 3,000 sequential Get User calls; the difference over 2,000 calls is the per-call figure
# (start-up and warm-up cancel out). Allocations are counted by heaptrack, instructions by
# callgrind; both count the whole process, the loopback server's thread included (the same for
# every variant). Needs `heaptrack` and `valgrind` (Debian packages of those names).
#
# Usage: bash scripts/bench-call-counts.sh [CHECKOUT]   (default: this one; e.g. ../wt-before)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in heaptrack valgrind heaptrack_print; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install heaptrack valgrind)" >&2; exit 2; }
done
dir="$(cd "${1:-.}" && pwd)"
(cd "$dir" && cargo build --release --quiet -p threecx-benches --bin call_figures)
bin="$dir/target/release/call_figures"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

allocations() { # variant calls
  heaptrack -o "$work/ht" "$bin" --only-sequential "$1" --calls "$2" >/dev/null 2>&1
  heaptrack_print "$work/ht.zst" 2>/dev/null | awk '/^calls to allocation functions/ {print $5}'
  rm -f "$work"/ht*
}
instructions() { # variant calls
  valgrind --tool=callgrind --callgrind-out-file="$work/cg" "$bin" --only-sequential "$1" \
    --calls "$2" 2>&1 >/dev/null | awk '/Collected/ {print $4}'
  rm -f "$work/cg"
}

echo "$dir at $(git -C "$dir" rev-parse --short HEAD)"
printf '%-14s %12s %14s\n' variant allocs/call instructions/call
for v in sdk sdk_request bare_timeouts bare; do
  a1=$(allocations "$v" 1000); a3=$(allocations "$v" 3000)
  i1=$(instructions "$v" 1000); i3=$(instructions "$v" 3000)
  printf '%-14s %12.1f %14.0f\n' "$v" "$(echo "($a3 - $a1) / 2000" | bc -l)" \
    "$(echo "($i3 - $i1) / 2000" | bc -l)"
done
