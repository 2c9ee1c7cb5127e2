#!/usr/bin/env bash
# Runs the examples against the bundled fake endpoint (TLS, its own CA passed explicitly).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d /tmp/iotjobs-examples.XXXXXX)
fake_pid=""
trap '[[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null; rm -rf "$work"' EXIT
"$IOTJOBS_BIN_DIR/iotjobs-fake-iot" --listen 127.0.0.1:0 --tls --ca-out "$work/ca.pem" --generate 500 --jobs 1 \
  >"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
for _ in $(seq 1 200); do [[ -s "$work/fake.out" ]] && break; sleep 0.05; done
export AWS_ENDPOINT_URL=$(head -n1 "$work/fake.out") AWS_CA_BUNDLE="$work/ca.pem" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
fail=0
out=$("$IOTJOBS_BIN_DIR/example_1_delete_one" thing-1 job-0 1) || fail=1
echo "$out"; [[ "$out" == "deleted thing-1/job-0/1" ]] || fail=1
out=$("$IOTJOBS_BIN_DIR/example_1_delete_one" thing-1 job-0 1) && fail=1
echo "$out"; [[ "$out" == *ResourceNotFoundException* ]] || fail=1
out=$("$IOTJOBS_BIN_DIR/example_2_bulk_delete" job-0 2 500) || fail=1
echo "$out"; [[ "$out" == *"deleted 499, not found 0"* ]] || fail=1
echo "examples: $([[ $fail == 0 ]] && echo passed || echo FAILED)"
exit $fail
