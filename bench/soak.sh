#!/usr/bin/env bash
# Soak: a bulk delete of ITEMS executions (default 100,000) through the library against the fake
# endpoint (iotjobs-fake-iot, TLS) with every fault kind on at once, then checks:
#  - every item got exactly one outcome (iotjobs-soak),
#  - the process's file descriptors came back to their baseline after the client was destroyed,
#    and its RSS to within a slack of it (iotjobs-soak),
#  - the fake's remaining executions agree with the report: an item reported deleted or not_found
#    is gone; an item still there was reported failed; an item reported failed that is gone had an
#    attempt the fake processed without the client seeing the answer (reset-after, truncate,
#    stall): there are at most as many of those as such faults were injected.
# Prints the figures (faults by kind from /_fake/stats, outcomes, retries, wall time, fds, RSS).
# Usage: bench/soak.sh [ITEMS]   (IOTJOBS_BIN_DIR: where iotjobs-fake-iot and iotjobs-soak are)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
items=${1:-100000}
bin=${IOTJOBS_BIN_DIR:-$root/build/bin}
for exe in iotjobs-fake-iot iotjobs-soak; do
  [[ -x $bin/$exe ]] || { echo "soak: $bin/$exe is missing (cmake --build build --target $exe)" >&2; exit 2; }
done
. "$root/bench/fake_lib.sh"

# Every fault kind, at rates that keep 100,000 items within minutes on a shared 2-core machine.
# A stalled answer (held 3 s) outlives the client's 1 s attempt deadline.
specs=(
  "latency=1,dist=exp:2"
  "unavailable=0.02"
  "throttle=0.02"
  "reset-before=0.01"
  "reset-after=0.01"
  "truncate=0.01"
  "close=0.02"
  "stall=0.002,ms=3000"
)
faults=()
for f in "${specs[@]}"; do faults+=(--fault "$f"); done
fake_start soak --tls --ca-out "$tmp/ca.pem" --threads 1 --generate "$items" --fault-seed 7 "${faults[@]}"

echo "soak: $items items against $url, faults: ${specs[*]}"
rc=0
"$bin/iotjobs-soak" --endpoint "$url" --ca "$tmp/ca.pem" --n "$items" --concurrency 64 \
  --report "$tmp/report.tsv" || rc=$?

curl -sf --cacert "$tmp/ca.pem" "$url/_fake/stats" >"$tmp/stats.json"
curl -sf --cacert "$tmp/ca.pem" "$url/_fake/executions" >"$tmp/remaining.json"
python3 - "$items" "$tmp/report.tsv" "$tmp/stats.json" "$tmp/remaining.json" <<'PY' || rc=1
import json, sys
items, report_path, stats_path, remaining_path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
stats = json.load(open(stats_path))
remaining = {e["executionNumber"] for e in json.load(open(remaining_path))["executions"]}
faults = stats.get("faults_injected", {})
print("faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items())))
print(f"fake: requests {stats.get('requests_total')}, connections {stats.get('connections_accepted')}, "
      f"tls handshakes {stats.get('tls_handshakes')}, executions remaining {stats.get('executions_remaining')}")
kinds, errors, bad = {}, {}, []
gone_failed = 0
for line in open(report_path):
    n, kind, attempts, maybe, err = (line.rstrip("\n").split("\t") + [""] * 5)[:5]
    n = int(n)
    kinds[kind] = kinds.get(kind, 0) + 1
    present = n in remaining
    if kind in ("deleted", "not_found") and present:
        bad.append(f"item {n} reported {kind} but still present")
    elif kind == "failed" and not present:
        gone_failed += 1
    elif kind not in ("deleted", "not_found", "failed"):
        bad.append(f"item {n}: unexpected outcome {kind} ({err})")
    if kind == "failed":
        errors[err] = errors.get(err, 0) + 1
    if kind == "not_found" and maybe != "1":
        bad.append(f"item {n}: not_found without an earlier attempt that may have deleted it")
reported = sum(kinds.values())
failed_present = kinds.get("failed", 0) - gone_failed
print("outcomes by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
if errors:
    print("failed by last error: " + ", ".join(f"{k or '?'} {v}" for k, v in sorted(errors.items())))
print(f"failed items still present {failed_present}, failed items gone (an attempt processed unseen) {gone_failed}")
processed_unseen = sum(faults.get(k, 0) for k in ("reset-after", "reset_after", "truncate", "stall"))
if gone_failed > processed_unseen:
    bad.append(f"{gone_failed} failed items are gone but only {processed_unseen} answers were lost after processing")
if len(remaining) != failed_present:
    bad.append(f"{len(remaining)} executions remain but {failed_present} failed items are still present")
if reported != items:
    bad.append(f"the report has {reported} lines for {items} items")
for b in bad[:20]:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY
if ((rc == 0)); then echo "soak: PASS"; else echo "soak: FAIL"; fi
exit $rc
