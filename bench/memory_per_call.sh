#!/usr/bin/env bash
# Memory per call (issue 15 item 4): iotjobs-bench-memory against the fake endpoint (plain HTTP,
# loopback) answering every request after LATENCY ms.
#  1. waiting: CALLS calls at once on one client with a pool of POOL (almost all wait for a connection);
#  2. in flight: INFLIGHT calls at once with a pool of INFLIGHT, connections opened by the warm-up
#     (every call in flight; the connections' own buffers are in the baseline).
# Usage: bench/memory_per_call.sh [CALLS] [POOL] [INFLIGHT] [LATENCY]   (defaults 10000 64 1000 200)
#   HEAPTRACK=1 also records case 1 under heaptrack and prints the peak memory consumers
#   COUNT_NEW=1 runs both cases again with the counting operator new (allocations by size)
#   SINGLE_THREADED=1 measures a client_config::single_threaded client (calls on op runners)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
calls=${1:-10000}
pool=${2:-64}
inflight=${3:-1000}
latency=${4:-200}
bin="${IOTJOBS_BIN_DIR:-$root/build/bin}"
[[ -n "${IOTJOBS_BIN_DIR:-}" ]] || "$root/scripts/build" iotjobs-bench-memory iotjobs-fake-iot >&2
source "$root/scripts/clean-aws-env"
. "$root/bench/fake_lib.sh"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fake_start memory_per_call --listen 127.0.0.1:0 --generate $((3 * (calls + pool) + 4 * inflight + 10)) --jobs 100 \
  --fault "latency=1,dist=fixed:$latency"
echo "== 1. $calls calls at once, pool $pool (waiting for a connection), fake latency $latency ms"
mode=()
[[ -n "${SINGLE_THREADED:-}" ]] && mode=(--single-threaded)
"$bin/iotjobs-bench-memory" --endpoint "$url" --calls "$calls" --pool "$pool" "${mode[@]}"
echo "== 2. $inflight calls at once, pool $inflight (all in flight), fake latency $latency ms"
"$bin/iotjobs-bench-memory" --endpoint "$url" --calls "$inflight" --pool "$inflight" --first $((calls + pool + 1)) \
  "${mode[@]}"
if [[ -n "${COUNT_NEW:-}" ]]; then
  echo "== 1 and 2 with the counting operator new"
  IOTJOBS_BENCH_COUNT_NEW=1 "$bin/iotjobs-bench-memory" --endpoint "$url" --calls "$calls" --pool "$pool" \
    --first $((calls + pool + 2 * inflight + 1))
  IOTJOBS_BENCH_COUNT_NEW=1 "$bin/iotjobs-bench-memory" --endpoint "$url" --calls "$inflight" --pool "$inflight" \
    --first $((2 * (calls + pool) + 2 * inflight + 1))
fi
if [[ -n "${HEAPTRACK:-}" ]]; then
  echo "== heaptrack of case 1"
  heaptrack -o "$tmp/ht" "$bin/iotjobs-bench-memory" --endpoint "$url" --calls "$calls" --pool "$pool" \
    --first $((2 * (calls + pool) + 4 * inflight + 1)) >/dev/null
  # Each peak consumer: bytes at the peak and the function that allocated (frames: the coroutine).
  heaptrack_print -f "$tmp"/ht.zst -p 1 -a 0 -T 0 -l 0 -n 16 -s 3 2>/dev/null \
    | awk -v n="$calls" '/peak memory consumed over/ { what = $0; getline fn; printf "%s\n    <- %s\n", what, substr(fn, 1, 160) }'
  heaptrack_print -f "$tmp"/ht.zst -p 0 -a 0 -T 0 -l 0 2>/dev/null | grep -E "peak heap memory consumption"
fi
