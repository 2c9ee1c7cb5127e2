#!/usr/bin/env bash
# Heap allocations per delete in steady state: iotjobs-bench-delete against the fake endpoint (TLS,
# one fake thread) under an LD_PRELOAD shim that counts them (bench/alloc_count.c), with N and
# 3 x N deletes; per delete = the difference / 2N, so connections, handshakes and set-up cancel out.
#
#   bench/allocations.sh [--check] [N, default 2000] [CONCURRENCY, default 16]
#
# Prints malloc calls (the process's: OpenSSL's records count too) and aligned allocations per
# delete. An aligned allocation is what Asio's recycling allocator makes when its per-thread cache
# cannot serve a coroutine frame or an operation; a frame over 1,020 bytes never fits that cache
# (docs/ARCHITECTURE.md, at client_impl::execute). --check exits 1 unless the aligned allocations are
# under 0.05 per delete: a call's frames must come from the cache (the test suite runs this; exit
# 77, a skip, without a C compiler for the shim).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${IOTJOBS_BIN_DIR:-$here/build/bin}
check=false
if [[ ${1:-} == --check ]]; then check=true; shift; fi
n=${1:-2000}; conc=${2:-16}
for exe in iotjobs-fake-iot iotjobs-bench-delete; do
  [[ -x $bin/$exe ]] || { echo "allocations: $bin/$exe is missing (cmake --build build --target $exe)" >&2; exit 2; }
done
cc=$(command -v cc || command -v gcc || true)
[[ -n $cc ]] || { echo "allocations: SKIPPED: no C compiler for the counting shim" >&2; exit 77; }
. "$here/bench/fake_lib.sh"
"$cc" -O2 -shared -fPIC -o "$tmp/alloc_count.so" "$here/bench/alloc_count.c"
fake_start allocations --tls --ca-out "$tmp/ca.pem" --threads 1 --generate $((4 * n + 1))

# count N START -> "malloc aligned" of one run of N deletes from START
count() {
  local err="$tmp/run.err"
  # (the driver's dummy keys, which the fake accepts, whatever this shell exports)
  if ! env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN LD_PRELOAD="$tmp/alloc_count.so" \
      "$bin/iotjobs-bench-delete" --endpoint "$url" --ca "$tmp/ca.pem" --n "$1" --start "$2" --concurrency "$conc" >"$tmp/run.out" 2>"$err"; then
    echo "allocations: the run of $1 deletes failed:" >&2
    cat "$tmp/run.out" "$err" >&2
    exit 1
  fi
  sed -n 's/^alloc-count malloc=\([0-9]*\) aligned=\([0-9]*\)$/\1 \2/p' "$err" | tail -n1
}
r1=$(count "$n" 1) || exit 1
r2=$(count $((3 * n)) $((n + 1))) || exit 1
read -r m1 a1 <<<"$r1"
read -r m2 a2 <<<"$r2"
[[ -n ${m1:-} && -n ${m2:-} ]] || { echo "allocations: the shim reported nothing (LD_PRELOAD ignored?)" >&2; exit 1; }
awk -v m1="$m1" -v a1="$a1" -v m2="$m2" -v a2="$a2" -v n="$n" -v c="$conc" 'BEGIN {
  printf "heap allocations per delete (steady state, %d vs %d deletes, concurrency %d):\n", n, 3 * n, c
  printf "  malloc  %.2f   (the process, OpenSSL included)\n", (m2 - m1) / (2 * n)
  printf "  aligned %.3f   (Asio frames and operations its cache could not serve)\n", (a2 - a1) / (2 * n)
}'
if $check && ! awk -v a1="$a1" -v a2="$a2" -v n="$n" 'BEGIN { exit !((a2 - a1) / (2 * n) < 0.05) }'; then
  echo "allocations: a call's coroutine frames do not come from Asio's cache (a frame over 1,020 bytes?)" >&2
  exit 1
fi
