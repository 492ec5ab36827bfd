#!/usr/bin/env bash
# The seed's data migration on N rows, as one UPDATE in an ordinary migration and as a backfill migration, each on a
# fresh database while a writer (pgbench, one client, a random row's UPDATE every ~5 ms) works on the same table.
# Prints, per round and as medians: pgshift migrate's time, rows/s, and the writer's worst and 99th-percentile wait.
#   bench/backfill.sh [rounds] [rows] [backfill options]     (defaults 3, 1000000, "batch=5000")
source "$(dirname "$0")/lib.sh"
rounds=${1:-3}
rows=${2:-1000000}
options=${3:-batch=5000}
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1)
[ -n "$pgbench" ] || { echo "needs pgbench (Debian's postgresql-contrib or postgresql-15)" >&2; exit 1; }
setup="CREATE TABLE characters (id bigint PRIMARY KEY, generation_status text, touched int NOT NULL DEFAULT 0);
INSERT INTO characters (id, generation_status) SELECT g, CASE WHEN g % 3 = 0 THEN 'PENDING' END FROM generate_series(1, $rows) g;
ANALYZE characters;"
statement="UPDATE characters SET generation_status = 'COMPLETED' WHERE generation_status IS NULL;"
mkdir -p "$work/setup" "$work/single" "$work/backfill"
for d in setup single backfill; do printf '%s\n' "$setup" > "$work/$d/V1__characters.sql"; done
printf '%s\n' "$statement" > "$work/single/V2__complete.sql"
printf -- '-- pgshift:backfill %s\n%s\n' "$options" "$statement" > "$work/backfill/V2__complete.sql"
printf '\\set id random(1, %d)\nUPDATE characters SET touched = touched + 1 WHERE id = :id;\n\\sleep 5 ms\n' "$rows" > "$work/writer.sql"
updated=$(( rows - rows / 3 ))
declare -A secs worst p99
for r in $(seq "$rounds"); do
  for kind in single backfill; do
    fresh
    PGDATABASE=run "${pgshift[@]}" migrate --bundled=false --migrations "$work/setup" --backup never >/dev/null 2>&1
    rm -f "$work"/w.*
    (cd "$work" && exec "$pgbench" -n -c 1 -T 3600 -f writer.sql -l --log-prefix=w -d run >/dev/null 2>&1) &
    writer=$!
    sleep 2
    t0=$(date +%s.%N)
    PGDATABASE=run "${pgshift[@]}" migrate --bundled=false --migrations "$work/$kind" --backup never >/dev/null 2>"$work/$kind.log" \
      || { cat "$work/$kind.log" >&2; exit 1; }
    t1=$(date +%s.%N)
    sleep 3 # the writer's lines of the migration's time leave its buffer
    kill -INT "$writer" 2>/dev/null; wait "$writer" 2>/dev/null || true
    [ "$(psql -X -At -d run -c "select count(*) from characters where generation_status = 'COMPLETED'")" = "$updated" ] \
      || { echo "$kind: wrong result" >&2; exit 1; }
    secs[$kind]+="$(echo "$t1 - $t0" | bc) "
    # pgbench's log: client, transaction, latency (µs), ...; the waits of the migration's time are among them
    worst[$kind]+="$(cat "$work"/w.* | awk '{ if ($3 > m) m = $3 } END { printf "%.0f", m / 1000 }') "
    p99[$kind]+="$(cat "$work"/w.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int(NR*0.99)] / 1000}') "
    printf 'round %d %-8s migrate %6.2fs   writer worst %6s ms\n' "$r" "$kind" "$(echo "$t1 - $t0" | bc)" "$(echo "${worst[$kind]}" | awk '{print $NF}')"
  done
done
echo "medians over $rounds round(s), $rows rows ($updated updated), backfill options: $options"
for kind in single backfill; do
  s=$(echo "${secs[$kind]}" | median)
  printf '%-8s migrate %6.2fs  %9.0f rows/s   writer worst wait %6s ms   p99 %6s ms\n' "$kind" "$s" "$(echo "$updated / $s" | bc -l)" \
    "$(echo "${worst[$kind]}" | median)" "$(echo "${p99[$kind]}" | median)"
done
