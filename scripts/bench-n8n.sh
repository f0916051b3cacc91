#!/usr/bin/env bash
# n8n figures of BENCHMARKS.md: size of the packed node and of its description, and the time
# from `n8n start` to a healthy /healthz with and without the node installed (RUNS starts each,
# alternating, so that both see the same machine load), plus `n8n execute` of a one-node
# workflow. Needs Node.js and npm; installs n8n once (scripts/n8n-setup.sh).
#
#   scripts/bench-n8n.sh [RUNS]        # default 5
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
n8n="$(bash scripts/n8n-setup.sh)"
pkg=integrations/n8n-nodes-threecx
work="$(mktemp -d)"
trap 'pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT

(cd "$pkg" && { [ -d node_modules ] || npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; } && npm run --silent build)
tgz="$(cd "$pkg" && npm pack --silent --pack-destination "$work")"
echo "package:      $tgz $(stat -c %s "$work/$tgz") bytes packed, $(tar -tzf "$work/$tgz" | wc -l) files"
echo "description:  $(stat -c %s "$pkg/generated/properties.json") bytes (generated/properties.json)"
echo "node bundle:  $(stat -c %s "$pkg/dist/nodes/ThreeCx/ThreeCx.node.js") bytes (dist/nodes/ThreeCx/ThreeCx.node.js)"

for kind in without with; do
    mkdir -p "$work/$kind/.n8n/nodes/node_modules"
done
mkdir -p "$work/with/.n8n/nodes/node_modules/n8n-nodes-threecx"
tar -xzf "$work/$tgz" -C "$work/with/.n8n/nodes/node_modules/n8n-nodes-threecx" --strip-components=1

env_for() {
    echo N8N_USER_FOLDER="$work/$1" N8N_ENCRYPTION_KEY=bench N8N_DIAGNOSTICS_ENABLED=false \
        N8N_VERSION_NOTIFICATIONS_ENABLED=false N8N_TEMPLATES_ENABLED=false \
        N8N_PERSONALIZATION_ENABLED=false N8N_COMMUNITY_PACKAGES_ENABLED=false \
        N8N_RUNNERS_MODE=external N8N_RUNNERS_AUTH_TOKEN=unused N8N_RUNNERS_BROKER_PORT=0 \
        N8N_LOG_LEVEL=warn N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=true
}

# One start per folder first: database migrations are a one-time cost, not start-up.
start_once() {
    local kind="$1" port="$2"
    local t0 t1
    env $(env_for "$kind") N8N_PORT="$port" N8N_LISTEN_ADDRESS=127.0.0.1 "$n8n" start >/dev/null 2>&1 &
    local pid=$!
    t0=$(date +%s%N)
    until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
    t1=$(date +%s%N)
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo $(( (t1 - t0) / 1000000 ))
}
port=5790
for kind in without with; do start_once "$kind" $((port++)) >/dev/null; done
declare -A times
for i in $(seq 1 "$runs"); do
    for kind in without with; do
        times[$kind]+="$(start_once "$kind" $((port++))) "
    done
done
for kind in without with; do
    sorted=$(tr ' ' '\n' <<<"${times[$kind]}" | grep . | sort -n | tr '\n' ' ')
    median=$(tr ' ' '\n' <<<"$sorted" | grep . | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "n8n start → /healthz, $kind the node: median ${median} ms (runs: ${sorted})"
done
