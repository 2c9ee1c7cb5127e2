# Sourced by the bench scripts that run against the fake endpoint (needs $bin: where
# iotjobs-fake-iot is): a temporary directory, $tmp, and the fake, both gone when the script exits
# (KEEP=1 keeps the directory, and says where it is).
#   fake_start NAME ARGS...   starts iotjobs-fake-iot ARGS (it prints its URL first: --listen
#                             127.0.0.1:0 is its default); sets $url and $fake_pid, or exits 1
#                             naming NAME when it does not start.
#   fake_stop                 stops it before the end (to read the figures it printed, or to start
#                             another).
tmp=$(mktemp -d)
fake_pid=""
fake_stop() {
  [[ -n $fake_pid ]] || return 0
  kill "$fake_pid" 2>/dev/null || true
  wait "$fake_pid" 2>/dev/null || true
  fake_pid=""
}
trap 'fake_stop; if [[ -n ${KEEP:-} ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi' EXIT
fake_start() {
  local name=$1
  shift
  "$bin/iotjobs-fake-iot" "$@" >"$tmp/url" 2>"$tmp/fake.err" &
  fake_pid=$!
  for _ in $(seq 1 200); do
    [[ -s $tmp/url ]] || ! kill -0 "$fake_pid" 2>/dev/null && break
    sleep 0.05
  done
  url=$(head -n1 "$tmp/url")
  [[ -n $url ]] || { echo "$name: the fake endpoint did not start: $(cat "$tmp/fake.err")" >&2; exit 1; }
}
