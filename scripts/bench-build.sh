#!/usr/bin/env bash
# Build figures of BENCHMARKS.md, in one command:
#  1. a clean release build of the whole workspace into an empty target directory (dependencies
#     included): wall time, CPU use, peak memory (max RSS of the largest process);
#  2. the incremental rebuild of the CLI after touching threecx-core (which every crate above it,
#     the generated one included, depends on), in release and in the dev profile (`cargo build`);
#  3. the size of the generated code.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${BENCH_TARGET_DIR:-$(mktemp -d /tmp/threecx-clean-build.XXXXXX)}"
rm -rf "$target"
trap 'rm -rf "$target" "$target".*.time' EXIT
cargo fetch --quiet

timed() { # NAME COMMAND...: runs it under /usr/bin/time -v, prints the figures
  local name="$1"; shift
  /usr/bin/time -v "$@" 2> "$target.$name.time"
  printf '%-34s %s wall, %s CPU, peak RSS %s KiB\n' "$name" \
    "$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$target.$name.time")" \
    "$(sed -n 's/.*Percent of CPU this job got: //p' "$target.$name.time")" \
    "$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$target.$name.time")"
}
touch_core() { touch crates/threecx-core/src/lib.rs; }

timed clean-release-workspace cargo build --release --workspace --quiet --target-dir "$target"
touch_core
timed incremental-release-cli cargo build --release -p threecx-cli --quiet --target-dir "$target"
# The dev profile needs a first build before a rebuild can be incremental.
cargo build -p threecx-cli --quiet --target-dir "$target"
touch_core
timed incremental-dev-cli cargo build -p threecx-cli --quiet --target-dir "$target"

files="$(find crates/threecx-ops/src/generated -name '*.rs')"
echo "generated code: $(cat $files | wc -c) bytes, $(cat $files | wc -l) lines in $(echo "$files" | wc -l) files"
