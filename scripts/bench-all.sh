#!/usr/bin/env bash
# Every figure of BENCHMARKS.md's performance section in one command (about 15 minutes on the
# 2-core project machine; run it on an otherwise idle machine):
#   a-c  scripts/bench-perf.sh          SDK vs bare reqwest on a cheap loopback server, typed streaming
#   d-e  scripts/bench-python-peer.sh   CLI start-up, and the Python 3cx-xapi-python-sdk on one sandbox
#   f    scripts/bench-build.sh         clean release build, incremental rebuilds of the CLI
# plus the CLI streams of the earlier issues (bench-stream.sh, bench-sandbox-stream.sh).
# Each part's output is printed in turn and kept in target/bench-all/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench-all
mkdir -p "$out"
for part in bench-perf bench-python-peer bench-build bench-stream bench-sandbox-stream; do
  echo "=================== scripts/$part.sh"
  bash "scripts/$part.sh" 2>&1 | tee "$out/$part.txt"
done
