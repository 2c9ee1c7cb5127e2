#!/usr/bin/env bash
# Side-by-side run of iotjobs-bench-delete with the peer clients of ../shared/peers (wrk floor,
# AWS SDK for JavaScript v3, boto3, AWS SDK for Go v2, AWS CLI) against the same local nginx, then
# the ratios that issues 5 and 15 ask for.
#
#   bench/run_peers.sh                # TLS, C=16, the knobs of measure.sh (C, JS_N, BOTO3_N, OURS_N, SKIP, ...)
#   SKIP=awscli bench/run_peers.sh    # e.g. without the (slow, per-process) AWS CLI rows
#   MEASURE_PLAIN=1 bench/run_peers.sh
#
# - peers/ is copied to build/peers (shared/ stays untouched; scripts refreshed, certs, node_modules,
#   the Go driver's binary and results kept), then setup.sh (certs, nginx config, npm install; as
#   root installs nginx-light and wrk, and golang-go + Debian's aws-sdk-go-v2 to build the Go driver
#   offline, when missing; SKIP=go leaves Go out) and measure.sh with
#   OURS_CMD='<bin>/iotjobs-bench-delete --endpoint {endpoint} --n {n} --concurrency {c} --ca {ca}';
#   <bin> is $IOTJOBS_BIN_DIR or build/bin (build it first: cmake --build build --target iotjobs-bench-delete).
# - prints measure.sh's table (also in build/peers/results/latest.md, raw files in build/peers/results/raw/)
#   and the ratios: our CPU µs per delete against wrk's, the JS SDK's, boto3's and the Go SDK's, our
#   rate against wrk's.
#   Our CPU figure is the driver's own loop CPU (getrusage, start-up excluded), like the SDKs' loop
#   column; wrk prints none, so its whole-process figure is used (a slightly generous floor).
# - stops nginx at the end if this script started it (an nginx already running on the copy is left
#   alone: someone else is using it). Loopback only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${IOTJOBS_BIN_DIR:-$root/build/bin}"
[[ -d "$bin" ]] && bin="$(cd "$bin" && pwd)"  # absolute: measure.sh runs from build/peers
shared="${IOTJOBS_SHARED_DIR:-$root/../shared}"
peers="$root/build/peers"

[[ -x "$bin/iotjobs-bench-delete" ]] || {
  echo "run_peers.sh: $bin/iotjobs-bench-delete not built (cmake --build build --target iotjobs-bench-delete)" >&2
  exit 1
}
[[ -d "$shared/peers" ]] || { echo "run_peers.sh: no $shared/peers" >&2; exit 1; }

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light wrk >/dev/null
  else
    echo "run_peers.sh: needs wrk and nginx (apt-get install nginx-light wrk)" >&2; exit 1
  fi
fi

mkdir -p "$peers"
cp -r "$shared/peers/." "$peers/"
chmod -R u+w "$peers"

nginx_was_running=""
if [[ -s "$peers/run/nginx.pid" ]] && [[ -r "/proc/$(cat "$peers/run/nginx.pid")/cmdline" ]] \
   && tr '\0' ' ' < "/proc/$(cat "$peers/run/nginx.pid")/cmdline" | grep -qF -- "$peers/nginx/nginx.conf"; then
  nginx_was_running=1
fi
cleanup() {
  [[ -z "$nginx_was_running" ]] && "$peers/stop-nginx.sh" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$peers/setup.sh" >&2

export OURS_CMD="$bin/iotjobs-bench-delete --endpoint {endpoint} --n {n} --concurrency {c} --ca {ca}"
# Our run as long as wrk's fixed one (about 100,000 deletes a second here), so that both spread the
# same start-up (16 TLS handshakes, first touches of memory) over the same time. measure.sh's own
# default (20,000) is a fifth of a second: the handshakes alone then weigh a few per cent.
export WRK_DURATION="${WRK_DURATION:-10}"
export OURS_N="${OURS_N:-$((WRK_DURATION * 100000))}"
export OURS_NAME="${OURS_NAME:-iotjobs (C++)}"
"$peers/measure.sh"

rows="$(ls -td "$peers"/results/raw/*/ | head -1)rows.jsonl"
echo
echo "Ratios (from $rows):"
python3 - "$rows" "$OURS_NAME" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ours_name = sys.argv[2]

def per_req(r, loop):
    ok = r.get('ok')
    if not ok:
        return None
    if loop and r.get('loop_cpu_s') is not None:
        return r['loop_cpu_s'] / ok * 1e6
    if r.get('user_s') is None:
        return None
    return (r['user_s'] + r['sys_s']) / ok * 1e6

for tr in sorted({r['transport'] for r in rows}):
    by = {}
    for r in rows:
        if r['transport'] != tr:
            continue
        if r['label'].startswith('wrk'): by['wrk'] = r
        elif r['label'].startswith('JS SDK'): by['js'] = r
        elif r['label'].startswith('boto3'): by['boto3'] = r
        elif r['label'].startswith('Go SDK'): by['go'] = r
        elif r['label'] == ours_name: by['ours'] = r
    ours = by.get('ours')
    if not ours or not ours.get('ok'):
        print(f'  {tr}: no result for {ours_name}')
        continue
    o_loop, o_whole = per_req(ours, True), per_req(ours, False)
    print(f'  {tr}: {ours_name}: {o_loop:.1f} µs CPU/delete (loop), {o_whole:.1f} (whole process), '
          f'{ours["loop_rate"]:,.0f} req/s, {ours.get("new_conns")} new connections, {ours.get("failed")} failed')
    if 'wrk' in by:
        w = per_req(by['wrk'], False)
        print(f'    vs wrk (whole process {w:.1f} µs/req): CPU x{o_loop / w:.2f} (target <= 1.5; whole process '
              f'x{o_whole / w:.2f}); rate x{ours["loop_rate"] / by["wrk"]["loop_rate"]:.2f} (target >= 0.8)')
    for k, name, target in (('js', 'JS SDK v3', 15), ('boto3', 'boto3', 40), ('go', 'Go SDK v2', None)):
        if k in by and by[k].get('ok'):
            p = per_req(by[k], True)
            goal = f' (target >= {target})' if target else ''
            print(f'    vs {name} (loop {p:,.1f} µs/req): {p / o_loop:.1f}x less CPU{goal}; '
                  f'rate x{ours["loop_rate"] / by[k]["loop_rate"]:.2f} of its')
PY
