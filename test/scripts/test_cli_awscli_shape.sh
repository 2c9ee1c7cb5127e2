#!/usr/bin/env bash
# iotjobs and the AWS CLI (awscli v1, `python3 -m awscli`, with cli_timestamp_format = iso8601,
# the default of v2) against the same iotjobs-fake-iot: list-job-executions-for-job (every page,
# --max-items / --starting-token, --page-size, --max-results), list-job-executions-for-thing
# (--job-id, --status, --namespace-id), describe-job-execution, cancel-job-execution and a service
# error give the same JSON (keys, structure, values) and the same --output text.
# Exit 77 (skipped) when python3 or awscli is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/fake/common.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
python3 -c 'import awscli' 2>/dev/null || skip "awscli not importable by python3"
[[ -x "$bin/iotjobs" ]] || { echo "missing $bin/iotjobs (build it first)" >&2; exit 1; }
python3 - "$FAKE_TMP/seed.json" <<'PY'
import json, sys
ex = [{"thingName": f"sh:{i}", "jobId": "job-shape", "executionNumber": i,
       "status": ["SUCCEEDED", "FAILED", "QUEUED", "IN_PROGRESS", "CANCELED"][i % 5]} for i in range(1, 38)]
ex += [{"thingName": "sh:1", "jobId": "job-other", "executionNumber": 100, "status": "QUEUED"},
       {"thingName": "sh:1", "jobId": "job-ns", "executionNumber": 101, "status": "FAILED", "namespaceId": "NS_1"}]
json.dump({"executions": ex}, open(sys.argv[1], "w"))
PY
fake_start --seed "$FAKE_TMP/seed.json"
python3 "$here/fake/cli_shape_cases.py" "$FAKE_URL" "$FAKE_CA" "$bin/iotjobs" "$FAKE_TMP"
