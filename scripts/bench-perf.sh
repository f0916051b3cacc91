#!/usr/bin/env bash
# Issue 6 performance figures, in one command: builds the bench crate in release, runs the
# criterion benches (a1 dispatch cost, a2 sequential per-call time, b concurrency-64 throughput,
# c page decode), the whole-run call figures (10,000 sequential calls; calls/s at 64 in flight),
# and the 1,000,000-row typed stream against a separate server process under /usr/bin/time -v;
# then prints every figure with its ratio and target.
#
# Usage: bash scripts/bench-perf.sh [ROWS]   (ROWS defaults to 1,000,000; PAGE_SIZE to 1,000)
# Everything runs on 127.0.0.1. Raw outputs are kept in target/bench-perf/.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
page_size="${PAGE_SIZE:-1000}"
criterion_args=(--warm-up-time 1 --measurement-time 3)

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
out="$target_dir/bench-perf"
mkdir -p "$out"

echo "== build (release)"
cargo build --release --quiet -p threecx-benches --bins
bin="$target_dir/release"

echo "== criterion benches (log: $out/criterion.log)"
cargo bench --quiet -p threecx-benches --bench dispatch --bench http --bench decode -- \
  "${criterion_args[@]}" > "$out/criterion.log" 2>&1 || { tail -40 "$out/criterion.log"; exit 1; }

echo "== 10,000 sequential calls and calls/s at concurrency 64 (call_figures)"
"$bin/call_figures" > "$out/call_figures.txt"

echo "== $rows call-history rows, typed, from a separate server process"
"$bin/perf_server" --rows "$rows" --page-size "$page_size" > "$out/server.txt" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 100); do
  url="$(sed -n 's/^listening //p' "$out/server.txt")"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "perf_server did not start" >&2; exit 1; }
/usr/bin/time -v "$bin/stream_rows" --url "$url" --page-size "$page_size" --expect "$rows" \
  > "$out/stream_rows.txt" 2> "$out/stream_rows.time"
kill "$server" 2>/dev/null || true

python3 - "$target_dir/criterion" "$out" <<'EOF'
import json, os, re, sys

crit, out = sys.argv[1], sys.argv[2]

def est_ns(group, name):
    """Criterion's headline time (slope when linearly sampled, else mean), in ns."""
    with open(os.path.join(crit, group, name, "new", "estimates.json")) as f:
        e = json.load(f)
    return (e.get("slope") or e["mean"])["point_estimate"]

def kv(path):
    with open(path) as f:
        return dict(l.strip().split("=", 1) for l in f if "=" in l)

cf = kv(os.path.join(out, "call_figures.txt"))
sr = kv(os.path.join(out, "stream_rows.txt"))
with open(os.path.join(out, "stream_rows.time")) as f:
    timev = f.read()
rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timev).group(1))
cpu_s = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", timev))

rows = []
def row(fig, what, value, target="", verdict=""):
    rows.append((fig, what, value, target, verdict))
def ok(good):
    return "met" if good else "MISSED"

for case, label in (("purge_chats", "PurgeChats"), ("get_user", "Get User $select/$expand")):
    total = est_ns("a1", f"{case}_find+prepare") / 1000
    parts = ", ".join(f"{p} {est_ns('a1', f'{case}_{p}'):.0f} ns" for p in ("find", "validate", "build"))
    row("a1", f"{label}: find + validate + build", f"{total:.2f} µs ({parts})", "≤ 10 µs", ok(total <= 10))

sdk, bare = est_ns("a2_sequential", "sdk_by_name"), est_ns("a2_sequential", "bare_reqwest")
row("a2", "per call, sequential, criterion: SDK by name / bare reqwest",
    f"{sdk/1000:.1f} µs / {bare/1000:.1f} µs = {sdk/bare:.3f}", "≤ 1.10", ok(sdk / bare <= 1.10))
n = int(cf["seq_calls"])
r = float(cf["seq_ratio"])
row("a2", f"{n:,} sequential calls, total (median of {cf['rounds']} rounds): SDK / bare",
    f"{float(cf['seq_sdk_total_ms']):.0f} ms / {float(cf['seq_bare_total_ms']):.0f} ms = {r:.3f}",
    "≤ 1.10", ok(r <= 1.10))
row("a2", "client CPU per sequential call: SDK / bare",
    f"{cf['seq_sdk_cpu_us_per_call']} µs / {cf['seq_bare_cpu_us_per_call']} µs = {cf['seq_cpu_ratio']}")

with open(os.path.join(crit, "b_concurrency64", "sdk_by_name", "new", "benchmark.json")) as f:
    batch = json.load(f)["throughput"]["Elements"]  # calls per criterion iteration
sdk, bare = est_ns("b_concurrency64", "sdk_by_name"), est_ns("b_concurrency64", "bare_reqwest")
sdk_ps, bare_ps = batch / (sdk / 1e9), batch / (bare / 1e9)
row("b", "calls/s at concurrency 64, one client, criterion: SDK / bare",
    f"{sdk_ps:,.0f} / {bare_ps:,.0f} = {sdk_ps/bare_ps:.3f}", "≥ 0.9", ok(sdk_ps / bare_ps >= 0.9))
r = float(cf["con_ratio"])
row("b", f"calls/s at concurrency 64, {int(cf['con_calls']):,} calls (median of {cf['rounds']}): SDK / bare",
    f"{float(cf['con_sdk_calls_per_s']):,.0f} / {float(cf['con_bare_calls_per_s']):,.0f} = {r:.3f}",
    "≥ 0.9", ok(r >= 0.9))
row("b", "client CPU per call at concurrency 64: SDK / bare (bare with SDK timeouts)",
    f"{cf['con_sdk_cpu_us_per_call']} µs / {cf['con_bare_cpu_us_per_call']} µs "
    f"({cf['con_bare_timeouts_cpu_us_per_call']} µs); bare/SDK = {cf['con_cpu_ratio']}")

rps = float(sr["rows_per_s"])
row("c", f"{int(sr['rows']):,} typed CallHistoryView rows, page size {sr['page_size']}",
    f"{rps:,.0f} rows/s ({float(sr['seconds']):.2f} s wall, {cpu_s:.2f} s CPU)", "≥ 300,000 rows/s", ok(rps >= 300_000))
row("c", "client peak RSS (/usr/bin/time -v, server in another process)",
    f"{rss_kib/1024:.1f} MiB ({rss_kib:,} KiB)", "≤ 64 MiB", ok(rss_kib <= 64 * 1024))
via_value = est_ns("c_decode_page", "value_then_from_value")
direct = est_ns("c_decode_page", "from_slice_typed")
checked = est_ns("c_decode_page", "syntax_check_then_from_slice_typed")
row("c", "decode a 1,000-row page: Value + from_value (SDK today) / typed from_slice / syntax pass + typed",
    " / ".join(f"{ns/1e6:.2f} ms ({1000/(ns/1e9):,.0f} rows/s)" for ns in (via_value, direct, checked)))

w = [max(len(r[i]) for r in rows) for i in range(5)]
print()
print(f"{'fig':<{w[0]}}  {'what':<{w[1]}}  {'figure':<{w[2]}}  {'target':<{w[3]}}  result")
for r in rows:
    print(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]:<{w[3]}}  {r[4]}")
print(f"\nuser answer: {cf['user_bytes']} bytes; raw outputs in {out}")
EOF
