#!/usr/bin/env bash
# --rate R against a fake endpoint limited to slightly above R (DeleteJobExecution = 1.05 R, the
# fake's default bucket size, max(1, limit), like a service quota that tolerates short bursts):
# the achieved rate and the throttled count the fake saw. BURST=1 makes the server bucket one
# token deep (any network jitter then throttles; see bench/README.md).
# Usage: bench/rate_accuracy.sh [R] [SECONDS]   (defaults 200 20)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rate=${1:-200}
seconds=${2:-20}
n=$(python3 -c "print(int($rate * $seconds))")
limit=$(python3 -c "print(round($rate * 1.05, 2))")
"$root/scripts/build" iotjobs_cli_main iotjobs-fake-iot >&2
bin="$root/build/bin"
source "$root/scripts/clean-aws-env"
. "$root/bench/fake_lib.sh"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY AWS_REGION=us-east-1
awk -v n="$n" 'BEGIN { print "thingName,jobId,executionNumber"; for (i = 1; i <= n; i++) printf "thing-%d,job-%d,%d\n", i, i % 100, i }' >"$tmp/in.csv"
fake_start rate_accuracy --listen 127.0.0.1:0 --tls --ca-out "$tmp/ca.pem" --generate "$n" --jobs 100 \
  --rate-limit "DeleteJobExecution=$limit" ${BURST:+--burst $BURST} --stats-on-exit
start=$(date +%s.%N)
"$bin/iotjobs" bulk-delete --input "$tmp/in.csv" --concurrency 16 --rate "$rate" \
  --endpoint-url "$url" --ca-bundle "$tmp/ca.pem" --report "$tmp/report.jsonl" 2>"$tmp/cli.err" || true
end=$(date +%s.%N)
fake_stop
tail -n 5 "$tmp/cli.err"
python3 - "$tmp/fake.err" "$n" "$rate" "$start" "$end" "$tmp/report.jsonl" <<'PY'
import json, sys
stats_text, n, rate, start, end, report = open(sys.argv[1]).read(), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
s = json.loads(stats_text[stats_text.find("{"):])
deleted = sum(1 for line in open(report) if json.loads(line)["outcome"] == "deleted")
wall = end - start
# The first request goes out at t=0 and the last at (n-1)/R: measure over the n-1 intervals.
achieved = (deleted - 1) / wall if wall > 0 else 0
print(f"requested --rate {rate}/s, server limit {rate*1.05:.2f}/s; {deleted}/{n} deleted in {wall:.2f} s")
print(f"achieved {achieved:.2f}/s = {achieved/rate*100:.2f} % of R (process wall time, start-up included); throttled by the server: {s.get('throttled')}")
PY
