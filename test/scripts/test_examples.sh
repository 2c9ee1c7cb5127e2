#!/usr/bin/env bash
# Runs every example against the bundled fake endpoint (TLS, its own CA passed explicitly) and
# checks that each did what it says, from its output and from the fake's state.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d /tmp/iotjobs-examples.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
fail=0
check() {  # check NAME CONDITION-COMMAND...
  if "${@:2}"; then echo "PASS $1"; else echo "FAIL $1"; fail=1; fi
}
like() { [[ "$1" == $2 ]]; }  # like TEXT GLOB
start_fake() {  # start_fake NAME ARGS...: URL in $work/NAME.url
  local name=$1; shift
  "$IOTJOBS_BIN_DIR/iotjobs-fake-iot" --listen 127.0.0.1:0 --tls --ca-out "$work/$name.pem" "$@" \
    >"$work/$name.url" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 200); do [[ -s "$work/$name.url" ]] && break; sleep 0.05; done
  head -n1 "$work/$name.url"
}
use_fake() {  # use_fake NAME: the AWS environment for it
  export AWS_ENDPOINT_URL=$(head -n1 "$work/$1.url") AWS_CA_BUNDLE="$work/$1.pem"
}
remaining() {  # remaining NAME THING JOB: how many executions the fake still has for them
  curl -sk "$(head -n1 "$work/$1.url")/_fake/executions?thingName=$2&jobId=$3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'
}
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY

start_fake fast --generate 2000 --jobs 1 >/dev/null
use_fake fast

# 1: one delete with co_await; a second time: not found.
out=$("$IOTJOBS_BIN_DIR/example_1_delete_one" thing-1 job-0 1) || fail=1
echo "$out"; check example-1 [ "$out" == "deleted thing-1/job-0/1" ]
check example-1-fake-state [ "$(remaining fast thing-1 job-0)" == 0 ]
out=$("$IOTJOBS_BIN_DIR/example_1_delete_one" thing-1 job-0 1) && fail=1
echo "$out"; check example-1-not-found like "$out" "*ResourceNotFoundException*"

# 2: bulk delete from a generator.
out=$("$IOTJOBS_BIN_DIR/example_2_bulk_delete" job-0 2 500) || fail=1
echo "$out"; check example-2 like "$out" "*deleted 499, not found 0*"

# 3: threads, callbacks and use_future.
out=$("$IOTJOBS_BIN_DIR/example_3_threads" job-0 501 700) || fail=1
echo "$out"; check example-3 [ "$out" == $'callbacks: deleted 199 of 199\nfuture: deleted 700' ]
check example-3-fake-state [ "$(remaining fast thing-700 job-0)" == 0 ]

# 4: bulk delete from a CSV file, with progress.
{ echo "thingName,jobId,executionNumber"; for i in $(seq 701 950); do echo "thing-$i,job-0,$i"; done; echo "bad line"; } >"$work/items.csv"
out=$("$IOTJOBS_BIN_DIR/example_4_bulk_from_file" "$work/items.csv") && fail=1  # the bad line: exit 1
echo "$out" | tail -n 3
check example-4 like "$out" "*progress: 200 done*items 251: deleted 250, not found 0, refused 0, failed 0, invalid 1*"
check example-4-fake-state [ "$(remaining fast thing-950 job-0)" == 0 ]

# 5: the HTTP server: deletes on request, and a client that goes away cancels its delete.
"$IOTJOBS_BIN_DIR/example_5_http_server" 0 5000 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!; pids+=($server_pid)
for _ in $(seq 1 200); do [[ -s "$work/server.out" ]] && break; sleep 0.05; done
server=$(head -n1 "$work/server.out" | sed 's/^listening on //')
check example-5-delete [ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$server/executions/thing-951/job-0/951")" == 204 ]
check example-5-fake-state [ "$(remaining fast thing-951 job-0)" == 0 ]
check example-5-not-found [ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$server/executions/thing-951/job-0/951")" == 404 ]
# A slow endpoint for the rest: the fake waits 3 s before processing.
kill $server_pid; wait $server_pid 2>/dev/null || true
start_fake slow --generate 20 --jobs 1 --fault latency=always,ms=3000 >/dev/null
use_fake slow
"$IOTJOBS_BIN_DIR/example_5_http_server" 0 1000 >"$work/server2.out" 2>"$work/server2.err" &
server_pid=$!; pids+=($server_pid)
for _ in $(seq 1 200); do [[ -s "$work/server2.out" ]] && break; sleep 0.05; done
server=$(head -n1 "$work/server2.out" | sed 's/^listening on //')
code=$(curl -s -o /dev/null -w "%{http_code}" -X DELETE "$server/executions/thing-1/job-0/1") || true; echo "deadline: HTTP $code"
check example-5-deadline [ "$code" == 504 ]
# The HTTP client gives up after 0.3 s: the server's delete is cancelled at once, not after the fake's 3 s.
curl -s -m 0.3 -X DELETE "$server/executions/thing-2/job-0/2" >/dev/null || true
for _ in $(seq 1 100); do grep -q "thing-2/job-0/2 -> cancelled" "$work/server2.out" && break; sleep 0.05; done
cat "$work/server2.out"
check example-5-client-gone grep -Eq "^DELETE /executions/thing-2/job-0/2 -> cancelled: the HTTP client went away \(([0-9]|[0-9][0-9]|[0-9][0-9][0-9]|1[0-9][0-9][0-9]) ms\)$" "$work/server2.out"
check example-5-nothing-in-flight like "$(curl -s "$server/stats")" '*"leased":0*'
kill $server_pid

# 6: timeouts and cancellation against the slow endpoint.
out=$("$IOTJOBS_BIN_DIR/example_6_timeouts_and_cancellation" thing-3 job-0 3) || fail=1
echo "$out"
check example-6 like "$out" "*operation timeout: *cancelled by its slot: Operation canceled*client::cancel(): 3 of 3 calls aborted*"

# 7: fan-out over two profiles (two accounts) and two regions, one fake limiting each key apart.
cat >"$work/creds.json" <<'JSON'
{"AKIDEXAMPLE": {"secret": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
 "AKIDSECOND": {"secret": "secondSecretKey/0123456789abcdefghijklmn"}}
JSON
start_fake accounts --generate 200 --jobs 1 --credentials "$work/creds.json" \
  --rate-limit DeleteJobExecution=50 --rate-limit-scope account >/dev/null
use_fake accounts
printf '[profile one]\n[profile two]\n' >"$work/config"
printf '[one]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n[two]\naws_access_key_id = AKIDSECOND\naws_secret_access_key = secondSecretKey/0123456789abcdefghijklmn\n' >"$work/credentials"
out=$(AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE="$work/credentials" AWS_MAX_ATTEMPTS=10 \
  "$IOTJOBS_BIN_DIR/example_7_fan_out" job-0 1 120 one,two us-east-1,eu-west-1) || fail=1
echo "$out"
check example-7 like "$out" "*one/eu-west-1: deleted 30, failed 0*two/us-east-1: deleted 30, failed 0*total: deleted 120 of 120*"
check example-7-fake-state [ "$(remaining accounts thing-120 job-0)" == 0 ]
stats=$(curl -sk "$(head -n1 "$work/accounts.url")/_fake/stats")
check example-7-per-account python3 -c 'import json,sys; a=json.loads(sys.argv[1])["accounts"]; sys.exit(0 if a["AKIDEXAMPLE"]["admitted"]==60 and a["AKIDSECOND"]["admitted"]==60 else 1)' "$stats"

echo "examples: $([[ $fail == 0 ]] && echo passed || echo FAILED)"
exit $fail
