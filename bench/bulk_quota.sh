#!/usr/bin/env bash
# bulk-delete with the adaptive limiter (no --rate) against the fake endpoint limited to L/s
# (DeleteJobExecution=L, burst B): requests the fake throttled, items failed, wall time. Issue 15:
# "600 items at a 10/s limit, burst 10" and the same at 1,000/s.
# Usage: bench/bulk_quota.sh [LIMIT] [ITEMS] [BURST] [CONCURRENCY]   (defaults 10 600 LIMIT 16)
#   IOTJOBS_BIN_DIR=dir  takes iotjobs and iotjobs-fake-iot from there (default build/bin, built first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
limit=${1:-10}
n=${2:-600}
burst=${3:-$limit}
conc=${4:-16}
bin="${IOTJOBS_BIN_DIR:-$root/build/bin}"
[[ -n "${IOTJOBS_BIN_DIR:-}" ]] || "$root/scripts/build" iotjobs_cli_main iotjobs-fake-iot >&2
source "$root/scripts/clean-aws-env"
. "$root/bench/fake_lib.sh"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY AWS_REGION=us-east-1
awk -v n="$n" 'BEGIN { print "thingName,jobId,executionNumber"; for (i = 1; i <= n; i++) printf "thing-%d,job-%d,%d\n", i, i % 100, i }' >"$tmp/in.csv"
fake_start bulk_quota --listen 127.0.0.1:0 --generate "$n" --jobs 100 \
  --rate-limit "DeleteJobExecution=$limit" --burst "$burst" --stats-on-exit
start=$(date +%s.%N)
"$bin/iotjobs" bulk-delete --input "$tmp/in.csv" --concurrency "$conc" \
  --endpoint-url "$url" --report "$tmp/report.jsonl" 2>"$tmp/cli.err" || true
end=$(date +%s.%N)
fake_stop
python3 - "$tmp/fake.err" "$tmp/report.jsonl" "$start" "$end" "$limit" "$burst" "$n" "$conc" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
s = json.loads(text[text.find("{"):])
outcomes = {}
attempts = 0
for line in open(sys.argv[2]):
    o = json.loads(line)
    outcomes[o["outcome"]] = outcomes.get(o["outcome"], 0) + 1
    attempts += o.get("attempts", 0) or 0
wall = float(sys.argv[4]) - float(sys.argv[3])
thr = s.get("throttled", 0)
ok = sum(v.get("ok", 0) for k, v in s.get("requests", {}).items()) if isinstance(s.get("requests"), dict) else None
print(f"limit {sys.argv[5]}/s burst {sys.argv[6]}, {sys.argv[7]} items, concurrency {sys.argv[8]}: wall {wall:.1f} s")
print(f"  outcomes {outcomes}")
print(f"  requests (sum of attempts) {attempts}, throttled by the fake {thr} = {100.0 * thr / max(attempts, 1):.2f} %")
PY
