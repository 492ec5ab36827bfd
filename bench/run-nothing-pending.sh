#!/usr/bin/env bash
# Wall time of `pgshift run` with nothing pending (JVM mode): the cost of a hook Job on an upgrade that changes no
# schema. Median of N runs (default 5) after one run that applies the bundled migrations.
#   bench/run-nothing-pending.sh [runs]
source "$(dirname "$0")/lib.sh"
runs=${1:-5}
"${pgshift[@]}" run --backup-dir "$work/backups" >/dev/null 2>&1
times=()
for i in $(seq "$runs"); do
  t0=$(date +%s.%N)
  "${pgshift[@]}" run --backup-dir "$work/backups" > "$work/out" 2>/dev/null
  t1=$(date +%s.%N)
  grep -q "applied   none" "$work/out"
  times+=("$(echo "$t1 - $t0" | bc)")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "runs: %d  min %.2fs  median %.2fs  max %.2fs\n", NR, a[1], a[int((NR+1)/2)], a[NR]}'
