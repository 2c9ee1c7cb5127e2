#!/usr/bin/env bash
# boto3 and awscli (v1, `python3 -m awscli`) against iotjobs-fake-iot over TLS: delete a terminal
# execution, ResourceNotFoundException, InvalidStateTransitionException / force, pagination with
# deletes between pages, wrong secret, ThrottlingException; thingNames with ':' and a namespaceId.
# Exit 77 (skipped) when python3 or boto3 is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/fake/common.sh"
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
python3 -c 'import boto3' 2>/dev/null || skip "boto3 not importable by python3"
command -v curl >/dev/null 2>&1 || skip "curl not found"
fake_start --seed "$here/fake/seed.json" --rate-limit DescribeJobExecution=1 --burst 1 --threads 2
python3 "$here/fake/boto3_cases.py" "$FAKE_URL" "$FAKE_CA"
