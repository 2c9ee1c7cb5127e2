#!/usr/bin/env bash
# Bulk delete from a file against the fake endpoint (TLS, loopback): peak RSS of the iotjobs
# process at 100,000 and at 1,000,000 items, and a check that the report has every item exactly
# once. Usage: bench/bulk_rss.sh [N_SMALL] [N_LARGE]   (defaults 100000 1000000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
small=${1:-100000}
large=${2:-1000000}
"$root/scripts/build" iotjobs_cli_main iotjobs-fake-iot >&2
bin="$root/build/bin"
source "$root/scripts/clean-aws-env"
. "$root/bench/fake_lib.sh"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY AWS_REGION=us-east-1

run_one() {
  local n=$1
  # The fake's --generate layout: thing-<i> / job-<i % 100> / executionNumber i, i = 1..n.
  awk -v n="$n" 'BEGIN { print "thingName,jobId,executionNumber"; for (i = 1; i <= n; i++) printf "thing-%d,job-%d,%d\n", i, i % 100, i }' >"$tmp/in.csv"
  fake_start bulk_rss --listen 127.0.0.1:0 --tls --ca-out "$tmp/ca.pem" --generate "$n" --jobs 100
  /usr/bin/time -v "$bin/iotjobs" bulk-delete --input "$tmp/in.csv" --concurrency 32 \
    --endpoint-url "$url" --ca-bundle "$tmp/ca.pem" --report "$tmp/report.jsonl" \
    2>"$tmp/time.txt" >/dev/null || true
  fake_stop
  local rss wall
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time.txt")
  python3 - "$tmp/report.jsonl" "$n" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
seen, outcomes = set(), {}
with open(path) as f:
    for line in f:
        o = json.loads(line)
        key = (o["thingName"], o["jobId"], o["executionNumber"])
        if key in seen:
            raise SystemExit(f"duplicate outcome for {key}")
        seen.add(key)
        outcomes[o["outcome"]] = outcomes.get(o["outcome"], 0) + 1
print(f"  report: {len(seen)} distinct items for {n} input lines, outcomes {outcomes}",
      "OK" if len(seen) == n else "MISSING ITEMS")
PY
  echo "  N=$n: peak RSS ${rss} KiB, wall $wall"
  echo "$rss" >"$tmp/rss.$n"
}

echo "bulk-delete, TLS, --concurrency 32, adaptive pacing (no server limit)"
run_one "$small"
run_one "$large"
a=$(cat "$tmp/rss.$small"); b=$(cat "$tmp/rss.$large")
python3 -c "a,b=$a,$b; print(f'peak RSS at {$large} items / at {$small} items = {b/a:.3f} ({(b/a-1)*100:+.1f} %)')"
