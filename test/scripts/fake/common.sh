# Sourced by test/scripts/test_fake_*.sh: finds the binaries, cleans AWS_* from the environment,
# starts iotjobs-fake-iot on a free loopback port with a throwaway CA, and stops it on exit.
#   fake_start [extra server options...]   sets FAKE_URL, FAKE_CA, FAKE_PID, FAKE_TMP
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
bin="${IOTJOBS_BIN_DIR:-$root/build/bin}"
# shellcheck source=/dev/null
source "$root/scripts/clean-aws-env"

skip() { echo "SKIPPED: $*" >&2; echo "SKIPPED: $*"; exit 77; }

FAKE_PID=""
FAKE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/iotjobs-fake-test.XXXXXX")
fake_cleanup() {
  if [[ -n "$FAKE_PID" ]]; then
    kill -TERM "$FAKE_PID" 2>/dev/null || true
    wait "$FAKE_PID" 2>/dev/null || true
  fi
  rm -rf "$FAKE_TMP"
}
trap fake_cleanup EXIT

fake_start() {
  [[ -x "$bin/iotjobs-fake-iot" ]] || { echo "missing $bin/iotjobs-fake-iot (build it first)" >&2; exit 1; }
  FAKE_CA="$FAKE_TMP/ca.pem"
  "$bin/iotjobs-fake-iot" --listen 127.0.0.1:0 --tls --ca-out "$FAKE_CA" "$@" \
    > "$FAKE_TMP/server.out" 2> "$FAKE_TMP/server.err" &
  FAKE_PID=$!
  for _ in $(seq 1 100); do
    [[ -s "$FAKE_TMP/server.out" ]] && break
    kill -0 "$FAKE_PID" 2>/dev/null || { cat "$FAKE_TMP/server.err" >&2; exit 1; }
    sleep 0.1
  done
  FAKE_URL=$(head -1 "$FAKE_TMP/server.out")
  [[ "$FAKE_URL" == https://127.0.0.1:* ]] || { echo "bad server URL '$FAKE_URL'" >&2; cat "$FAKE_TMP/server.err" >&2; exit 1; }
  echo "fake server: $FAKE_URL (pid $FAKE_PID)"
}
