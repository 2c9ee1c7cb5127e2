#!/usr/bin/env bash
# wrk against the fake IoT endpoint (every request SigV4-verified) and against nginx from
# ../shared/peers (answers 200 {} without looking), same keep-alive TLS workload, same run.
#
#   bench/fake_vs_nginx.sh [--duration S] [--connections C] [--threads T] [--n N]
#
# - fake: build/bin/iotjobs-fake-iot (or $IOTJOBS_BIN_DIR) with peers' certificate, --threads T
#   (default 1, like nginx's worker_processes 1), --generate N SUCCEEDED executions;
# - requests: N DeleteJobExecution requests pre-signed by `iotjobs-fake-iot --presign` for the
#   fake's Host, replayed by bench/fake_presigned.lua (wrk -t 1 -c C); nginx gets the same bytes;
# - nginx: peers' start-nginx.sh/stop-nginx.sh, run from a copy under build/peers (shared/ must
#   not be written to); only the nginx this script started is stopped.
# Prints req/s for both and the ratio fake/nginx. Loopback only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${IOTJOBS_BIN_DIR:-$root/build/bin}"
shared="${IOTJOBS_SHARED_DIR:-$root/../shared}"
duration=10 conns=16 threads=1 n=300000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) conns="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --n) n="$2"; shift 2 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "fake_vs_nginx.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
source "$root/scripts/clean-aws-env"

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light wrk >/dev/null
  else
    echo "fake_vs_nginx.sh: needs wrk and nginx (apt-get install nginx-light wrk)" >&2; exit 1
  fi
fi
[[ -x "$bin/iotjobs-fake-iot" ]] || { echo "fake_vs_nginx.sh: $bin/iotjobs-fake-iot not built" >&2; exit 1; }

work="$root/build/bench-fake"
mkdir -p "$work"
# Run peers from a private copy: shared/ must stay untouched (its scripts write certs/, run/, logs/).
peers="$root/build/peers"
mkdir -p "$peers" && cp -rn "$shared/peers/." "$peers/" && chmod -R u+w "$peers"
fake_pid="" nginx_started=""
cleanup() {
  [[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null || true
  [[ -n "$nginx_started" ]] && "$peers/stop-nginx.sh" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# nginx first (its setup creates the certificate both servers use).
if ! (exec 3<>/dev/tcp/127.0.0.1/8443) 2>/dev/null; then
  "$peers/start-nginx.sh" >&2
  nginx_started=1
else
  echo "fake_vs_nginx.sh: something already listens on 127.0.0.1:8443; using it as the nginx peer" >&2
fi
certs="$peers/certs"

"$bin/iotjobs-fake-iot" --listen 127.0.0.1:0 --tls-cert "$certs/server.crt" --tls-key "$certs/server.key" \
  --threads "$threads" --generate "$n" --stats-on-exit > "$work/fake.out" 2> "$work/fake.err" &
fake_pid=$!
for _ in $(seq 1 100); do [[ -s "$work/fake.out" ]] && break; sleep 0.1; done
url=$(head -1 "$work/fake.out")
[[ -n "$url" ]] || { cat "$work/fake.err" >&2; exit 1; }
hostport=${url#https://}
"$bin/iotjobs-fake-iot" --presign "$n" --presign-host "$hostport" > "$work/presigned.txt"
export PRESIGNED="$work/presigned.txt"

run_wrk() {  # $1 = URL; prints "requests rate"
  local out line
  out=$(wrk -t 1 -c "$conns" -d "${duration}s" --timeout 10s -s "$root/bench/fake_presigned.lua" "$1/")
  printf '%s\n' "$out" >&2
  line=$(printf '%s\n' "$out" | grep '^wrk-summary ' | tail -1)
  printf '%s\n' "$line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] + 0 }
    printf "%d %.1f %d %d\n", v["requests"], v["requests"] / (v["duration_us"] / 1e6), v["p50_us"], v["p99_us"] }'
}

echo "== fake ($url, threads $threads, SigV4 verified)" >&2
read -r fake_n fake_rate fake_p50 fake_p99 < <(run_wrk "$url")
stats=$(curl -s --cacert "$certs/ca.crt" "$url/_fake/stats")
echo "== nginx (https://127.0.0.1:8443, 1 worker, no verification)" >&2
read -r ngx_n ngx_rate ngx_p50 ngx_p99 < <(run_wrk "https://127.0.0.1:8443")

ratio=$(awk -v a="$fake_rate" -v b="$ngx_rate" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
echo
echo "fake-vs-nginx: wrk -t 1 -c $conns -d ${duration}s, keep-alive TLS, DeleteJobExecution pre-signed (n=$n)"
printf '  %-28s %10s req  %10s req/s  p50 %6s us  p99 %6s us\n' "iotjobs-fake-iot (verify)" "$fake_n" "$fake_rate" "$fake_p50" "$fake_p99"
printf '  %-28s %10s req  %10s req/s  p50 %6s us  p99 %6s us\n' "nginx (peers, return 200)" "$ngx_n" "$ngx_rate" "$ngx_p50" "$ngx_p99"
echo "  ratio fake/nginx: $ratio"
echo "  fake stats: $stats"
