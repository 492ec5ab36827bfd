#!/usr/bin/env bash
# Times `pgshift backup` with --backup-method restore-point (a restore point, the WAL switched and proven archived into
# a directory by archive_command cp) next to --backup-method dump (pg_dump -Fc read back whole) on the same database,
# alternating, N rounds. Not a test: what the note of the restore-point issue reports.
#
#   bench/restore-point-vs-pg_dump.sh [GB of data, default 1] [rounds, default 3]
# Needs what the README's commands need.
archive=$(mktemp -d)
chmod 777 "$archive"
bench_wal_archive=$archive
source "$(dirname "$0")/lib.sh"
trap 'exec 3>&- 2>/dev/null; wait 2>/dev/null; rm -rf "$work" "$archive"' EXIT
gb=${1:-1}
rounds=${2:-3}
# ~1 GB per 8.4 million rows of random text (789 MB for 6.5 million, measured): it neither compresses away in the dump nor fits in a page or two
psql -q -c "create table if not exists noise as select g as id, md5(random()::text) || md5(random()::text) as a, random() as b, now() as t
            from generate_series(1, ($gb * 8400000)::bigint) g"
psql -q -c "checkpoint"
echo "database: $(psql -Atc "select pg_size_pretty(pg_database_size('bench'))"); WAL archived into $archive"
printf "%-6s %16s %22s %10s\n" round "dump (s)" "restore point (s)" "dump size"
for i in $(seq "$rounds"); do
  out=$("${pgshift[@]}" backup --backup-method dump --backup-dir "$work/backups" --backup-keep 1 2>/dev/null)
  dump=$(echo "$out" | awk '$1 == "backup" && $2 == "SUCCEEDED" {sub("s", "", $3); print $3}')
  size=$(ls -l "$work/backups/"*.dump | awk '{print $5}')
  out=$("${pgshift[@]}" backup --backup-method restore-point 2>/dev/null)
  point=$(echo "$out" | awk '$1 == "backup" && $2 == "SUCCEEDED" {sub("s", "", $3); print $3}')
  printf "%-6s %16s %22s %10s\n" "$i" "$dump" "$point" "$size"
  echo "$out" | grep "restore point" | head -1
done
