#!/usr/bin/env bash
# Fan-out at real quotas: PAIRS (profile, region) pairs on one fake endpoint that limits every
# account (access key) to RATE DeleteJobExecution per second (--rate-limit-scope account), one
# iotjobs bulk-delete process fanning out over them for about SECONDS seconds.
#
#   bench/fanout.sh                       # PAIRS=20 RATE=10 SECONDS_=30 BURST=10 CONCURRENCY=4
#   PAIRS=20 RATE=10 SECONDS_=10 bench/fanout.sh
#
# Each pair is its own account: profile pNN with key AKIDFANOUTNN (a test config and credentials
# file in a temporary directory), in one of four regions; all pointed at the fake by endpoint_url.
# The input has PAIRS x RATE x SECONDS_ rows, interleaved over the pairs. Prints: the aggregate rate
# against PAIRS x RATE, each pair's rate (its deletes over its own run, first item to last
# outcome) against RATE (min / median / max), the share of requests
# throttled (client side, and the fake's per-account counts; after the warm-up: from the fake's
# counts at WARMUP seconds, default 10, to the end), failed items, and the process's CPU
# (user + system, from /usr/bin/time) as a share of one core. Loopback only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${IOTJOBS_BIN_DIR:-$root/build/bin}"
PAIRS=${PAIRS:-20}
RATE=${RATE:-10}
SECONDS_=${SECONDS_:-30}
BURST=${BURST:-$RATE}
CONCURRENCY=${CONCURRENCY:-4}
WARMUP=${WARMUP:-10}
for b in iotjobs iotjobs-fake-iot; do
  [[ -x "$bin/$b" ]] || { echo "fanout.sh: $bin/$b not built (cmake --build build --target iotjobs_cli_main iotjobs-fake-iot)" >&2; exit 1; }
done
. "$root/bench/fake_lib.sh"  # $tmp (kept with KEEP=1) and the fake
work=$tmp

items=$((PAIRS * RATE * SECONDS_))
regions=(us-east-1 eu-west-1 ap-south-1 us-west-2)
python3 - "$work" "$PAIRS" "$items" <<'PY'
import json, sys
work, pairs, items = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
regions = ["us-east-1", "eu-west-1", "ap-south-1", "us-west-2"]
creds = {}
with open(f"{work}/credentials", "w") as c:
    for p in range(pairs):
        key, secret = f"AKIDFANOUT{p:02d}", f"fanoutSecret{p:02d}/0123456789abcdefghijklmnopq"
        creds[key] = {"secret": secret}
        c.write(f"[p{p:02d}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
json.dump(creds, open(f"{work}/creds.json", "w"))
with open(f"{work}/items.csv", "w") as f:
    f.write("thingName,jobId,executionNumber,profile,region\n")
    for i in range(1, items + 1):
        p = (i - 1) % pairs
        f.write(f"thing-{i},job-0,{i},p{p:02d},{regions[p % len(regions)]}\n")
PY
fake_start fanout.sh --listen 127.0.0.1:0 --generate "$items" --jobs 1 --credentials "$work/creds.json" \
  --rate-limit "DeleteJobExecution=$RATE" --burst "$BURST" --rate-limit-scope account
: >"$work/config"
for p in $(seq 0 $((PAIRS - 1))); do printf '[profile p%02d]\nendpoint_url = %s\n' "$p" "$url" >>"$work/config"; done

echo "fanout: $PAIRS pairs x $RATE/s (burst $BURST) for ~${SECONDS_} s: $items items, --concurrency $CONCURRENCY per pair"
set +e
env -i PATH="$PATH" HOME="$work" AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE="$work/credentials" \
  AWS_REGION=us-east-1 AWS_PROFILE=p00 AWS_MAX_ATTEMPTS=10 \
  /usr/bin/time -f '%U %S %e' -o "$work/time" \
  "$bin/iotjobs" bulk-delete --input "$work/items.csv" --concurrency "$CONCURRENCY" >"$work/summary.json" 2>"$work/err" &
run_pid=$!
sleep "$WARMUP"
curl -s "$url/_fake/stats" >"$work/stats_warm.json"
wait "$run_pid"
code=$?
[[ -s "$work/summary.json" ]] || { echo "fanout.sh: no summary; stderr:" >&2; tail -5 "$work/err" >&2; exit 1; }
set -e
curl -s "$url/_fake/stats" >"$work/stats.json"
python3 - "$work" "$PAIRS" "$RATE" "$code" "$WARMUP" <<'PY'
import json, statistics, sys
work, pairs, rate, code, warmup = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
s = json.load(open(f"{work}/summary.json"))
user, system, wall = (float(x) for x in open(f"{work}/time").read().split())
secs = s["seconds"]
deleted = s["outcomes"]["deleted"]
agg = deleted / secs
per = sorted(p["outcomes"]["deleted"] / p["seconds"] for p in s["pairs"])  # each over its own run
print(f"exit code {code}; {s['items']} items in {secs:.1f} s: deleted {deleted}, failed {s['outcomes']['failed']}")
print(f"aggregate rate {agg:.1f}/s = {100 * agg / (pairs * rate):.1f} % of {pairs * rate:.0f}/s")
print(f"per pair: min {per[0]:.2f}/s ({100 * per[0] / rate:.1f} %), median {statistics.median(per):.2f}/s, "
      f"max {per[-1]:.2f}/s (of {rate:.0f}/s)")
print(f"throttled: {s['throttled']} of {s['requests']} requests = {100 * s['throttled'] / max(1, s['requests']):.2f} %")
acc = json.load(open(f"{work}/stats.json")).get("accounts", {})
th = sorted(a["throttled"] for a in acc.values())
print(f"fake: {len(acc)} accounts, throttled per account min {th[0]} max {th[-1]}" if th else "fake: no accounts")
warm = json.load(open(f"{work}/stats_warm.json")).get("accounts", {})
t0 = sum(a["throttled"] for a in warm.values())
n0 = t0 + sum(a["admitted"] for a in warm.values())
t1 = sum(a["throttled"] for a in acc.values())
n1 = t1 + sum(a["admitted"] for a in acc.values())
if n1 > n0:
    print(f"throttled after the first {warmup} s (fake's counts): {t1 - t0} of {n1 - n0} requests = "
          f"{100 * (t1 - t0) / (n1 - n0):.2f} %")
print(f"CPU: user {user:.2f} s + system {system:.2f} s over {wall:.1f} s wall = {100 * (user + system) / wall:.1f} % of one core")
PY
