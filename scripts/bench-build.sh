#!/usr/bin/env bash
# Clean release build of the whole workspace, timed: wall time and peak memory (max RSS of the
# largest process: rustc or the linker), as recorded in BENCHMARKS.md. Uses its own target
# directory so the figure is a true cold build (dependencies included).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${BENCH_TARGET_DIR:-$(mktemp -d /tmp/threecx-clean-build.XXXXXX)}"
rm -rf "$target"
cargo fetch --quiet
/usr/bin/time -v cargo build --release --workspace --quiet --target-dir "$target" 2> "$target.time"
grep -E 'Elapsed \(wall clock\)|Maximum resident set size|Percent of CPU' "$target.time"
echo "generated code: $(cat crates/threecx-ops/src/generated/**/*.rs crates/threecx-ops/src/generated/*.rs 2>/dev/null | wc -c) bytes, $(find crates/threecx-ops/src/generated -name '*.rs' | xargs cat | wc -l) lines in $(find crates/threecx-ops/src/generated -name '*.rs' | wc -l) files"
rm -rf "$target" "$target.time"
