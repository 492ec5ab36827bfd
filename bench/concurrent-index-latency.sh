#!/usr/bin/env bash
# Write latency of the application while pgshift builds an index: CREATE INDEX CONCURRENTLY (what pgshift runs outside
# a transaction) against a plain CREATE INDEX (which blocks every write to the table for the whole build).
# For each mode: a fresh database, pgshift creates the table, N rows are loaded, then pgbench inserts into the table
# (2 clients) while pgshift applies the index migration. Reports per-insert latency p50/p99/max and the build time.
#   bench/concurrent-index-latency.sh [rows, default 2000000]
source "$(dirname "$0")/lib.sh"
rows=${1:-2000000}
echo "insert into items (val, note) values (random() * 100000, 'bench');" > "$work/insert.sql"
for mode in concurrent plain; do
  export PGDATABASE=bench_$mode
  createdb "$PGDATABASE"
  m="$work/m-$mode"
  mkdir -p "$m"
  echo "CREATE TABLE items (id bigserial PRIMARY KEY, val int NOT NULL, note text);" > "$m/V1__items.sql"
  "${pgshift[@]}" migrate --bundled=false --migrations "$m" --backup never > /dev/null 2>&1
  psql -q -c "insert into items (val, note) select g % 100000, md5(g::text) from generate_series(1, $rows) g" -c "analyze items"
  if [ "$mode" = concurrent ]; then
    echo "CREATE INDEX CONCURRENTLY items_val_note ON items (val, note);" > "$m/V2__idx.sql"
  else
    echo "CREATE INDEX items_val_note ON items (val, note);" > "$m/V2__idx.sql"
  fi
  (cd "$work" && pgbench -n -c 2 -T 25 -l --log-prefix="$mode" -f insert.sql > "$work/pgbench-$mode.txt" 2>&1) &
  bench=$!
  sleep 3
  t0=$(date +%s.%N)
  "${pgshift[@]}" migrate --bundled=false --migrations "$m" --backup never --lock-timeout 60s --progress-interval 1s \
    > /dev/null 2> "$work/pgshift-$mode.log" || { echo "pgshift failed:"; tail -5 "$work/pgshift-$mode.log"; exit 1; }
  t1=$(date +%s.%N)
  wait $bench || { echo "pgbench failed:"; cat "$work/pgbench-$mode.txt"; exit 1; }
  build=$(echo "$t1 - $t0" | bc)
  cat "$work"/"$mode".* | awk '{print $3}' | sort -n | awk -v mode="$mode" -v build="$build" \
    '{a[NR]=$1} END {printf "%-10s migrate %6.2fs  inserts %7d  latency p50 %7.2f ms  p99 %8.2f ms  max %9.2f ms\n", mode, build, NR, a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000, a[NR]/1000}'
done
echo "progress logged during the concurrent build (pg_stat_progress_create_index, --progress-interval 1s):"
grep "index build on" "$work/pgshift-concurrent.log" | sed 's/^.*\] /  /' | head -4
