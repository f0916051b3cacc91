#!/usr/bin/env bash
# threecx against the Python SDK on PyPI, 3cx-xapi-python-sdk (import name `threecx`), end to end:
#
#   d. start-up: `python -c "import threecx"` beside bare `python -c pass`, and the CLI's
#      `threecx list` and a `--dry-run` call, with hyperfine (-N, 3 warm-ups, 10 runs; medians);
#   e. against ONE sandbox with USERS users: (i) every user in $top/$skip pages of PAGE_SIZE,
#      (ii) GETS sequential `Users({Id})`, ids cycling over the listed ones; the Python side is
#      scripts/bench_python_sdk.py, the Rust side tests/src/bin/bench_peer.rs (the threecx SDK
#      by name). Each side runs as a whole process under /usr/bin/time -v, RUNS times,
#      alternating, after WARMUP uncounted runs each; medians of wall time, CPU time and peak
#      RSS, the sandbox's CPU time during the run, and the ratios Python / threecx.
#
#   scripts/bench-python-peer.sh
#
# Environment (defaults): PORT (18741), USERS (10000), PAGE_SIZE (100), GETS (1000), RUNS (5),
# WARMUP (1), PYTHON (python3: the interpreter the venv is made from), BENCH_VENV (.bench-venv,
# created when missing; must stay out of git), SDK_VERSION (3.0.0).
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-18741}"
users="${USERS:-10000}"
page="${PAGE_SIZE:-100}"
gets="${GETS:-1000}"
runs="${RUNS:-5}"
warmup="${WARMUP:-1}"
python="${PYTHON:-python3}"
venv="${BENCH_VENV:-.bench-venv}"
sdk_version="${SDK_VERSION:-3.0.0}"
bin=./target/release/threecx
peer=./target/release/bench_peer
url="http://127.0.0.1:$port"
creds=(sandbox sandbox-secret)

# --- prerequisites ----------------------------------------------------------------------------
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time (GNU time) is missing: apt-get install time" >&2; exit 1; }
if ! command -v hyperfine > /dev/null; then
  echo "hyperfine is missing; installing it with cargo install --locked hyperfine" >&2
  cargo install --locked hyperfine
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "creating the venv $venv with $("$python" --version 2>&1)" >&2
  "$python" -m venv "$venv"
fi
vpy="$venv/bin/python"
installed="$("$vpy" -c 'import importlib.metadata as m; print(m.version("3cx-xapi-python-sdk"))' 2>/dev/null || true)"
if [ "$installed" != "$sdk_version" ]; then
  echo "installing 3cx-xapi-python-sdk==$sdk_version into $venv" >&2
  "$vpy" -m pip install --quiet "3cx-xapi-python-sdk==$sdk_version"
fi

# Built one package at a time, so the CLI is the binary `cargo build -p threecx-cli` gives.
cargo build --release --quiet -p threecx-cli
cargo build --release --quiet -p threecx-tests --bin bench_peer

work="$(mktemp -d)"
sandbox=""
cleanup() {
  # Still running after a failure: Ctrl-C, then (a SIGINT that came before the sandbox was
  # listening for it is ignored in a background job) SIGTERM.
  if [ -n "$sandbox" ] && kill -0 "$sandbox" 2>/dev/null; then
    kill -INT "$sandbox" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$sandbox" 2>/dev/null || break; sleep 0.1; done
    kill -TERM "$sandbox" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- d. start-up --------------------------------------------------------------------------------
# No THREECX_* from the caller's shell: the CLI commands below need no PBX.
dry_run="$bin call 'Purge Settings' 'Purge Chats' --input '{\"period\":{\"All\":true}}' --dry-run"
startup=(
  "$vpy -c pass"
  "$vpy -c 'import threecx'"
  "$bin list"
  "$dry_run"
)
env -u THREECX_URL -u THREECX_CLIENT_ID -u THREECX_CLIENT_SECRET -u THREECX_PROFILE \
  hyperfine -N --warmup 3 --runs 10 --export-json "$work/startup.json" "${startup[@]}" \
  > "$work/hyperfine.log" 2>&1 || { cat "$work/hyperfine.log" >&2; exit 1; }

# --- e. one sandbox, both SDKs --------------------------------------------------------------------
if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "error: port $port is taken; set PORT" >&2
  exit 1
fi
"$bin" sandbox --port "$port" --users "$users" > "$work/sandbox.out" 2>&1 &
sandbox=$!
for _ in $(seq 300); do
  grep -q "Press Ctrl-C" "$work/sandbox.out" && break
  kill -0 "$sandbox" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q "Press Ctrl-C" "$work/sandbox.out"; then
  echo "the sandbox did not start:" >&2
  cat "$work/sandbox.out" >&2
  exit 1
fi

ticks="$(getconf CLK_TCK)"
# CPU seconds (user + system) the sandbox has used so far.
sandbox_cpu() {
  awk -v t="$ticks" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$sandbox/stat"
}
expected="listed $users users, got $gets users by id"
# run SIDE N: one whole-process run of SIDE (python|threecx), saved as $work/SIDE.N.*
run() {
  local side="$1" n="$2" before after
  local -a cmd
  if [ "$side" = python ]; then
    cmd=("$vpy" scripts/bench_python_sdk.py "$url" "${creds[@]}" "$page" "$gets")
  else
    cmd=("$peer" "$url" "${creds[@]}" "$page" "$gets")
  fi
  before="$(sandbox_cpu)"
  /usr/bin/time -v -o "$work/$side.$n.time" "${cmd[@]}" > "$work/$side.$n.out" 2> "$work/$side.$n.err" || {
    echo "error: the $side side failed:" >&2
    cat "$work/$side.$n.err" "$work/$side.$n.out" >&2
    exit 1
  }
  after="$(sandbox_cpu)"
  if [ "$(cat "$work/$side.$n.out")" != "$expected" ]; then
    echo "error: the $side side printed '$(cat "$work/$side.$n.out")', expected '$expected'" >&2
    exit 1
  fi
  awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f\n", a - b }' > "$work/$side.$n.sandbox_cpu"
}
for i in $(seq "$warmup"); do run python "w$i"; run threecx "w$i"; done
for i in $(seq "$runs"); do run python "$i"; run threecx "$i"; done

kill -INT "$sandbox"
for _ in $(seq 50); do kill -0 "$sandbox" 2>/dev/null || break; sleep 0.1; done
wait "$sandbox" 2>/dev/null || true
sandbox=""

# --- the table ------------------------------------------------------------------------------------
field() { grep -E "$1" "$2" | sed -E 's/.*: //'; }
# "m:ss.ss" or "h:mm:ss" to seconds.
seconds() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f\n", s }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# per SIDE WHAT: one value per counted run.
per() {
  local side="$1" what="$2" i
  for i in $(seq "$runs"); do
    local t="$work/$side.$i.time"
    case "$what" in
      wall) field 'Elapsed \(wall clock\)' "$t" | seconds ;;
      cpu) awk -v u="$(field 'User time' "$t")" -v s="$(field 'System time' "$t")" 'BEGIN { printf "%.2f\n", u + s }' ;;
      rss) awk -v k="$(field 'Maximum resident set size' "$t")" 'BEGIN { printf "%.1f\n", k / 1024 }' ;;
      sandbox) cat "$work/$side.$i.sandbox_cpu" ;;
    esac
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f×", a / b; else print "n/a" }'; }

python_version="$("$vpy" --version 2>&1 | sed 's/Python //')"
echo "## d. start-up (hyperfine -N --warmup 3 --runs 10; Python $python_version, 3cx-xapi-python-sdk $sdk_version)"
echo
echo "| command | median | mean ± σ | min … max |"
echo "|---|---:|---:|---:|"
"$vpy" - "$work/startup.json" "$vpy" "$bin" <<'EOF'
import json, sys
path, vpy, bin_ = sys.argv[1:]
for r in json.load(open(path))["results"]:
    name = r["command"].replace(vpy, "python").replace(bin_, "threecx")
    ms = lambda s: f"{s * 1000:.1f} ms"
    print(f"| `{name}` | {ms(r['median'])} | {ms(r['mean'])} ± {ms(r['stddev'])} "
          f"| {ms(r['min'])} … {ms(r['max'])} |")
EOF
echo
echo "## e. one sandbox with $users users: $((users / page)) pages of $page + $gets gets by id ($runs runs each, medians)"
echo
echo "| side | wall | CPU (user+sys) | peak RSS | sandbox CPU during the run |"
echo "|---|---:|---:|---:|---:|"
declare -A med
for side in python threecx; do
  for what in wall cpu rss sandbox; do
    med[$side.$what]="$(per "$side" "$what" | median)"
  done
  label="Python SDK (bench_python_sdk.py)"
  [ "$side" = threecx ] && label="threecx SDK (bench_peer)"
  echo "| $label | ${med[$side.wall]} s | ${med[$side.cpu]} s | ${med[$side.rss]} MiB | ${med[$side.sandbox]} s |"
done
echo "| **Python / threecx** | **$(ratio "${med[python.wall]}" "${med[threecx.wall]}")** | $(ratio "${med[python.cpu]}" "${med[threecx.cpu]}") | **$(ratio "${med[python.rss]}" "${med[threecx.rss]}")** | |"
echo
echo "Every run (wall s / CPU s / peak RSS MiB / sandbox CPU s):"
for side in python threecx; do
  printf '  %-8s' "$side"
  paste -d/ <(per "$side" wall) <(per "$side" cpu) <(per "$side" rss) <(per "$side" sandbox) | tr '\n' ' '
  echo
done
echo "Each run printed: $expected"
