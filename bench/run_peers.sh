#!/usr/bin/env bash
# Side-by-side run of iotjobs-bench-delete with the peer clients of ../shared/peers (wrk floor,
# AWS SDK for JavaScript v3, boto3, AWS SDK for Go v2, AWS CLI) against the same local nginx, then
# the ratios that issues 5 and 15 ask for.
#
#   bench/run_peers.sh                # TLS, C=16, the knobs of measure.sh (C, JS_N, BOTO3_N, OURS_N, SKIP, ...)
#   SKIP=awscli bench/run_peers.sh    # e.g. without the (slow, per-process) AWS CLI rows
#   MEASURE_PLAIN=1 bench/run_peers.sh
#   FLOOR_ROUNDS=0 bench/run_peers.sh # without the extra wrk/ours rounds (default 2)
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
# - then FLOOR_ROUNDS (2) more rounds of wrk and ours alone, alternating, and the wrk ratios per
#   pair and from the sums over every pair (this run's included): one client's ten seconds can fall
#   in a slow spell of a shared machine (nginx's own CPU per request moves with it), the sums spread
#   such spells over both clients.
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
# The rows of measure.sh's last run: its raw directories are named by UTC time, so the glob's last
# (no `ls | head`: with hundreds of them, ls dies of SIGPIPE and pipefail stops the script).
latest_rows() {
  local dirs=("$peers"/results/raw/*/)
  echo "${dirs[-1]}rows.jsonl"
}
"$peers/measure.sh"
rows=$(latest_rows)

# The floor again, interleaved: FLOOR_ROUNDS (default 2; 0 = none) more rounds of wrk then ours
# alone, each as measured above (measure.sh with the SDK rows skipped; their table goes to
# results/floor-latest.md). The ratio of the sums over this run's pair and those rounds is less at
# the mercy of a slow spell of the (shared) machine during one client's ten seconds.
floor_rows=("$rows")
if [[ "${FLOOR_ROUNDS:=2}" -gt 0 && " ${SKIP:-} " != *" wrk "* && " ${SKIP:-} " != *" ours "* ]]; then
  for ((k = 1; k <= FLOOR_ROUNDS; k++)); do
    echo "run_peers.sh: floor round $k of $FLOOR_ROUNDS (wrk, then ours)" >&2
    SKIP="js boto3 go awscli" OUT="$peers/results/floor-latest.md" "$peers/measure.sh" >/dev/null
    floor_rows+=("$(latest_rows)")
  done
fi

echo
echo "Ratios (from $rows):"
python3 - "$OURS_NAME" "${floor_rows[@]}" <<'PY'
import json, sys
ours_name = sys.argv[1]
runs = [[json.loads(l) for l in open(f) if l.strip()] for f in sys.argv[2:]]
rows = runs[0]

def per_req(r, loop):
    ok = r.get('ok')
    if not ok:
        return None
    if loop and r.get('loop_cpu_s') is not None:
        return r['loop_cpu_s'] / ok * 1e6
    if r.get('user_s') is None:
        return None
    return (r['user_s'] + r['sys_s']) / ok * 1e6

def by_client(rs, tr):
    by = {}
    for r in rs:
        if r['transport'] != tr:
            continue
        if r['label'].startswith('wrk'): by['wrk'] = r
        elif r['label'].startswith('JS SDK'): by['js'] = r
        elif r['label'].startswith('boto3'): by['boto3'] = r
        elif r['label'].startswith('Go SDK'): by['go'] = r
        elif r['label'] == ours_name: by['ours'] = r
    return by

def floor_targets(cpu, rate):
    met = cpu <= 1.0 and rate >= 1.0
    return f'CPU x{cpu:.3f}, rate x{rate:.3f} ({"meets" if met else "misses"} issue 15: CPU <= 1, rate >= 1)'

for tr in sorted({r['transport'] for r in rows}):
    by = by_client(rows, tr)
    ours = by.get('ours')
    if not ours or not ours.get('ok'):
        print(f'  {tr}: no result for {ours_name}')
        continue
    o_loop, o_whole = per_req(ours, True), per_req(ours, False)
    print(f'  {tr}: {ours_name}: {o_loop:.2f} µs CPU/delete (loop), {o_whole:.2f} (whole process), '
          f'{ours["loop_rate"]:,.0f} req/s, {ours.get("new_conns")} new connections, {ours.get("failed")} failed')
    if 'wrk' in by:
        w = per_req(by['wrk'], False)
        print(f'    vs wrk, this table\'s pair alone (whole process {w:.2f} µs/req): {floor_targets(o_loop / w, ours["loop_rate"] / by["wrk"]["loop_rate"])}; '
              f'whole process x{o_whole / w:.3f}')
    for k, name, target in (('js', 'JS SDK v3', 15), ('boto3', 'boto3', 40), ('go', 'Go SDK v2', None)):
        if k in by and by[k].get('ok'):
            p = per_req(by[k], True)
            goal = f' (target >= {target})' if target else ''
            print(f'    vs {name} (loop {p:,.1f} µs/req): {p / o_loop:.1f}x less CPU{goal}; '
                  f'rate x{ours["loop_rate"] / by[k]["loop_rate"]:.2f} of its')
    # This run's wrk/ours pair and the floor rounds: per pair, and from the sums (CPU over all
    # requests; rate = requests over loop seconds).
    pairs = [(b['wrk'], b['ours']) for b in (by_client(rs, tr) for rs in runs)
             if b.get('wrk', {}).get('ok') and b['wrk'].get('user_s') is not None
             and b.get('ours', {}).get('ok') and b['ours'].get('loop_cpu_s') is not None]
    if len(pairs) > 1:
        each = ', '.join(f'x{per_req(o, True) / per_req(w, False):.3f}' for w, o in pairs)
        w_cpu = sum(w['user_s'] + w['sys_s'] for w, _ in pairs) / sum(w['ok'] for w, _ in pairs)
        o_cpu = sum(o['loop_cpu_s'] for _, o in pairs) / sum(o['ok'] for _, o in pairs)
        w_rate = sum(w['ok'] for w, _ in pairs) / sum(w['loop_s'] for w, _ in pairs)
        o_rate = sum(o['ok'] for _, o in pairs) / sum(o['loop_s'] for _, o in pairs)
        print(f'    vs wrk, the run taken whole ({len(pairs)} pairs alternated: this one and {len(pairs) - 1} floor rounds): CPU per pair {each}; '
              f'summed: {o_cpu * 1e6:.2f} against {w_cpu * 1e6:.2f} µs/req, {floor_targets(o_cpu / w_cpu, o_rate / w_rate)}')
PY
