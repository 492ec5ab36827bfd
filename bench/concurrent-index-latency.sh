#!/usr/bin/env bash
# Write latency of the application while pgshift builds an index: CREATE INDEX CONCURRENTLY (what pgshift runs outside
# a transaction) against a plain CREATE INDEX (which blocks every write to the table for the whole build).
# pgbench inserts into the table for the whole build; reports per-transaction latency p50/p99/max.
#   bench/concurrent-index-latency.sh [rows, default 2000000]
source "$(dirname "$0")/lib.sh"
rows=${1:-2000000}
psql -q -c "create table items (id bigserial primary key, val int not null, note text)" \
     -c "insert into items (val, note) select g % 100000, md5(g::text) from generate_series(1, $rows) g" -c "analyze items"
echo "insert into items (val, note) values (random() * 100000, 'bench');" > "$work/insert.sql"
for mode in concurrent plain; do
  mkdir -p "$work/m-$mode"
  if [ "$mode" = concurrent ]; then
    echo "CREATE INDEX CONCURRENTLY items_val_note_$mode ON items (val, note);" > "$work/m-$mode/V1__idx.sql"
  else
    echo "CREATE INDEX items_val_note_$mode ON items (val, note);" > "$work/m-$mode/V1__idx.sql"
  fi
  psql -q -c "drop table if exists flyway_schema_history" -c "drop schema if exists pgshift cascade"
  (cd "$work" && pgbench -n -c 2 -T 25 -l --log-prefix="$mode" -f insert.sql > "$work/pgbench-$mode.txt" 2>&1) &
  bench=$!
  sleep 3
  t0=$(date +%s.%N)
  "${pgshift[@]}" migrate --bundled=false --migrations "$work/m-$mode" --backup never --lock-timeout 60s --progress-interval 1s > /dev/null 2> "$work/pgshift-$mode.log"
  t1=$(date +%s.%N)
  wait $bench
  cat "$work"/"$mode".* | awk -v mode="$mode" -v build="$(echo "$t1 - $t0" | bc)" '{print $3}' | sort -n | awk -v mode="$mode" -v build="$(echo "$t1 - $t0" | bc)" \
    '{a[NR]=$1} END {printf "%-10s build %6.2fs  inserts %7d  latency p50 %7.2f ms  p99 %8.2f ms  max %9.2f ms\n", mode, build, NR, a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000, a[NR]/1000}'
  rm -f "$work"/"$mode".*
done
echo "progress lines logged during the concurrent build (pg_stat_progress_create_index, every 1 s):"
grep "index build on" "$work/pgshift-concurrent.log" | sed 's/^/  /' | head -5
