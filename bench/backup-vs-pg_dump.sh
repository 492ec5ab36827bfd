#!/usr/bin/env bash
# Times pgshift's backup phase (pg_dump with the whole archive read back by pg_restore while it is written, the
# rewritten table of contents read again, sha256, manifest, retention) next to a direct `pg_dump -Fc` of the same
# database, in the same run, alternating, N rounds. Target: the phase within 5 % of the direct dump. Not a test.
#
#   bench/backup-vs-pg_dump.sh [pgbench scale, default 10] [rounds, default 5]
# Needs what the README's commands need, plus pgbench (Debian: postgresql-contrib or postgresql-client).
source "$(dirname "$0")/lib.sh"
scale=${1:-10}
rounds=${2:-5}
pgbench -q -i -s "$scale" >/dev/null 2>&1
# pgbench's filler columns compress ~50x; add a table of random text so the archive has a realistic size.
psql -q -c "create table if not exists noise as select g as id, md5(random()::text) || md5(random()::text) as a, random() as b from generate_series(1, $scale * 100000) g"
echo "database: pgbench scale $scale + noise, $(psql -Atc "select pg_size_pretty(pg_database_size('bench'))")"
ratios=()
printf "%-6s %12s %14s %8s\n" round "pg_dump -Fc" "pgshift backup" ratio
for i in $(seq "$rounds"); do
  t0=$(date +%s.%N)
  pg_dump -Fc -f "$work/direct.dump"
  t1=$(date +%s.%N)
  out=$("${pgshift[@]}" backup --backup-dir "$work/backups" --backup-keep 1 2>/dev/null)
  phase=$(echo "$out" | awk '$1 == "backup" && $2 == "SUCCEEDED" {sub("s", "", $3); print $3}')
  direct=$(echo "$t1 - $t0" | bc)
  ratio=$(echo "$phase / $direct" | bc -l)
  ratios+=("$ratio")
  printf "%-6s %11.2fs %13.2fs %8.3f\n" "$i" "$direct" "$phase" "$ratio"
done
printf "%s\n" "${ratios[@]}" | sort -n | awk '{r[NR]=$1} END {printf "ratio: median %.3f, min %.3f, max %.3f (target <= 1.050)\n", (NR % 2 ? r[(NR+1)/2] : (r[NR/2]+r[NR/2+1])/2), r[1], r[NR]}' 
ls -l "$work/direct.dump" "$work/backups/"*.dump | awk '{print $5, $9}'
