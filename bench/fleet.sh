#!/usr/bin/env bash
# A fleet of 60 tenant databases on one server, migrated by 'pgshift fleet run' serially (one process, one shard) and by
# 6 processes as an Indexed Job's pods (JOB_COMPLETION_INDEX=0..5), waves 1,10%,rest, each tenant with the whole routine
# (backup with pg_dump, three migrations: a table with a row, CREATE INDEX CONCURRENTLY, a constraint). Prints the wall
# time of each and the roll-up of the 6-process release. Usage: bench/fleet.sh [TENANTS] [PROCESSES] [TENANTS_AT_ONCE]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tenants=${1:-60}
procs=${2:-6}
at_once=${3:-1}
mig="$work/migrations"
mkdir -p "$mig"
printf 'create table customer (id serial primary key, email text not null);\ninsert into customer (email) values (%s);\n' "'a@example.com'" > "$mig/V1__customers.sql"
printf 'create index concurrently customer_email_idx on customer (email);\n' > "$mig/V2__email_idx.sql"
printf 'alter table customer add constraint customer_email_key unique (email);\n' > "$mig/V3__unique_email.sql"
export PGSHIFT_BACKUP_DIR="$work/backups" PGSHIFT_FLEET_WAVES=1,10%,rest
psql -q -X -c "create table if not exists tenant_directory (release text, name text, url text)" >/dev/null
setup() { # $1: release id: its own tenant databases
  for i in $(seq -w 1 "$tenants"); do
    psql -q -X -d postgres -c "create database \"$1_t$i\" owner bench" >/dev/null
    psql -q -X -c "insert into tenant_directory values ('$1', 't$i', 'postgresql://bench@localhost:$PGPORT/$1_t$i')" >/dev/null
  done
}
run() { # $1 release, $2 processes, $3 tenants at once in each
  local start end pids=()
  start=$(date +%s.%N)
  for ((i = 0; i < $2; i++)); do
    JOB_COMPLETION_INDEX=$i PGSHIFT_FLEET_TENANTS_AT_ONCE=$3 "${pgshift[@]}" fleet run --release "$1" --shards "$2" --bundled=false -m "$mig" \
      --tenants-sql "select name, url from tenant_directory where release = '$1' order by name" > "$work/$1-$i.out" 2> "$work/$1-$i.err" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done # not the server's job
  end=$(date +%s.%N)
  echo "$1: $tenants tenants, $2 process(es), $3 at once each: $(echo "$end - $start" | bc) s"
}
setup serial
setup parallel
run serial 1 1
run parallel "$procs" "$at_once"
"${pgshift[@]}" fleet status --release parallel
