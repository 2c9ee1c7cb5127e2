#!/usr/bin/env bash
# The cost of metrics and of logging at info (issue 12): iotjobs-bench-delete against the fake
# endpoint (TLS, one fake thread), configurations interleaved, CPU microseconds per delete of the
# client process (getrusage around the loop), the median of REPS runs per configuration.
#
#   bench/observe_cost.sh [N per run, default 10000] [REPS, default 5] [CONCURRENCY, default 16]
#
# Configurations: metrics off + log off (the floor), metrics on + log off (the default),
# metrics on + log info (structured sink), metrics on + log info (string sink), metrics on + log
# debug (structured sink: a record per attempt, and the signing details).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${IOTJOBS_BIN_DIR:-$here/build/bin}
n=${1:-10000}; reps=${2:-5}; conc=${3:-16}
configs=("--metrics off --log off" "--metrics on --log off" "--metrics on --log info" "--metrics on --log info-text"
         "--metrics on --log debug")
total=$(( n * reps * ${#configs[@]} + 1 ))
. "$here/bench/fake_lib.sh"
fake_start observe_cost --tls --ca-out "$tmp/ca.pem" --threads 1 --generate "$total"
start=1
for rep in $(seq "$reps"); do
  for i in "${!configs[@]}"; do
    out=$("$bin/iotjobs-bench-delete" --endpoint "$url" --ca "$tmp/ca.pem" --n "$n" --concurrency "$conc" \
          --start "$start" ${configs[$i]} 2>/dev/null)
    start=$(( start + n ))
    cpu=$(sed -n 's/^loop cpu seconds //p' <<<"$out")
    echo "$i $(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.3f", c * 1e6 / n }')" >> "$tmp/results"
  done
done
echo "CPU us per delete (median of $reps runs of $n deletes, concurrency $conc; all runs):"
for i in "${!configs[@]}"; do
  vals=$(awk -v i="$i" '$1 == i { print $2 }' "$tmp/results" | sort -n | tr '\n' ' ')
  med=$(awk -v i="$i" '$1 == i { print $2 }' "$tmp/results" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  printf '  %-32s %8s   (%s)\n' "${configs[$i]}" "$med" "$vals"
done
