#!/usr/bin/env bash
# pgshift side by side with the psql floor and the Flyway CLI it is built on, in one run, tools alternated round by round.
#   bench/side-by-side.sh [rounds]        (default 5; prints medians of the rounds)
# Workloads (generated): A, 201 migrations: V1 fills a 1M-row table, 199 small DDL files (create table, add column, create
# index), the last builds an index on the big table with CREATE INDEX CONCURRENTLY; B, 500: the same with 498 small files.
# Each apply gets a fresh database; "nothing pending" runs the tool again on the database A left, three times a round.
#   psql     the floor: every file in one psql session, each file in its own BEGIN/COMMIT (the concurrent build on its
#            own, as it must be) - one commit per migration like the migration tools, the cheapest faithful floor
#   pgshift  target/quarkus-app/pgshift (the launcher, the JVM flags of the image) run --backup never
#   flyway   Flyway CLI 12.5.0 from Maven Central (flyway-commandline with its PostgreSQL support; the other databases'
#            drivers left out), launched as its `flyway` script does: java -cp 'lib/*' org.flywaydb.commandline.Main
# Wall time: date before and after; max RSS: /usr/bin/time -v (the largest process). The per-migration overhead is the
# slope between A and B (seconds per extra small migration) minus psql's slope.
source "$(dirname "$0")/lib.sh"
rounds=${1:-5}
# BENCH_PGSHIFT="java -jar target/quarkus-app/quarkus-run.jar" measures another launch of the same build;
# BENCH_BASELINE=/path/to/an/earlier/quarkus-app/pgshift adds that build as the tool "baseline" (before/after a change);
# BENCH_TOOLS="psql pgshift" measures only those (default: psql pgshift flyway, plus baseline when given).
[ -z "${BENCH_PGSHIFT:-}" ] || read -ra pgshift <<< "$BENCH_PGSHIFT"
read -ra tools <<< "${BENCH_TOOLS:-psql pgshift flyway${BENCH_BASELINE:+ baseline}}"
flyway_version=12.5.0

# Flyway CLI: the jar and its dependencies, once, into ~/.cache (Maven Central only: the tar.gz is not published there).
flyway_lib=${XDG_CACHE_HOME:-$HOME/.cache}/pgshift/bench/flyway-$flyway_version/lib
if [ ! -s "$flyway_lib/flyway-commandline-$flyway_version.jar" ]; then
  others="flyway-gcp-bigquery flyway-gcp-spanner flyway-sqlserver flyway-database-oracle flyway-database-db2 flyway-database-derby
    flyway-database-hsqldb flyway-database-informix flyway-database-saphana flyway-database-snowflake flyway-database-redshift
    flyway-database-sybasease flyway-mysql flyway-firebird flyway-singlestore flyway-database-cassandra flyway-database-ignite
    flyway-database-tidb flyway-database-yugabytedb flyway-database-clickhouse flyway-database-oceanbase flyway-database-databricks
    flyway-database-db2zos flyway-database-duckdb flyway-database-timeplus flyway-database-cubrid flyway-database-questdb
    flyway-database-iris flyway-locations-s3 flyway-reports flyway-command-test-connection cassandra-jdbc-wrapper jffi h2 hsqldb
    mssql-jdbc azure-identity msal4j google-cloud-spanner-jdbc jtds singlestore-jdbc-client databricks-jdbc jna jna-platform
    jaybird-jdk18 mariadb-java-client ojdbc11 snowflake-jdbc sqlite-jdbc mongodb-driver-sync java-client s3 google-cloud-storage
    aws-secretsmanager-jdbc flyway-verb-info flyway-verb-migrate flyway-nc-core flyway-verb-validate flyway-verb-schemas
    flyway-verb-clean flyway-verb-baseline flyway-verb-repair flyway-database-nc-mongodb flyway-database-nc-couchbase
    flyway-database-nc-cassandra flyway-nc-scanners flyway-nc-callbacks flyway-database-nc-sqlite"
  exclusions=$(for a in $others; do printf '<exclusion><groupId>*</groupId><artifactId>%s</artifactId></exclusion>' "$a"; done)
  mkdir -p "$work/flyway-cli"
  cat > "$work/flyway-cli/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>bench</groupId><artifactId>flyway-cli</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.flywaydb</groupId><artifactId>flyway-commandline</artifactId><version>$flyway_version</version>
      <exclusions>$exclusions</exclusions></dependency>
    <dependency><groupId>org.flywaydb</groupId><artifactId>flyway-database-postgresql</artifactId><version>$flyway_version</version></dependency>
  </dependencies>
</project>
EOF
  ./mvnw -B -q -f "$work/flyway-cli/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$flyway_lib"
fi

gen() { # gen DIR SMALL
  local dir=$1 small=$2 i
  mkdir -p "$dir"
  printf 'CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL);\nINSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 1000000) g;\n' \
    > "$dir/V1__fill.sql"
  for i in $(seq 2 $((small + 1))); do
    printf -- '-- migration %d\nCREATE TABLE t%d (id bigint PRIMARY KEY, name text NOT NULL);\nALTER TABLE t%d ADD COLUMN note text;\nCREATE INDEX t%d_name ON t%d (name);\n' \
      "$i" "$i" "$i" "$i" "$i" > "$dir/V${i}__t${i}.sql"
  done
  printf 'CREATE INDEX CONCURRENTLY big_payload ON big (payload);\n' > "$dir/V$((small + 2))__big_payload.sql"
  # the floor's input: one session, each file in its own transaction but the concurrent build
  for i in $(seq 1 $((small + 1))); do echo 'BEGIN;'; cat "$dir/V${i}__"*.sql; echo 'COMMIT;'; done > "$dir.psql"
  cat "$dir/V$((small + 2))__big_payload.sql" >> "$dir.psql"
}
gen "$work/A" 199
gen "$work/B" 498
declare -A count=([A]=201 [B]=500)

tool() { # tool NAME WORKLOAD: sets cmd to the command line
  case $1 in
    psql) cmd=(psql -q -X -v ON_ERROR_STOP=1 -d run -f "$work/$2.psql") ;;
    pgshift) cmd=(env PGDATABASE=run "${pgshift[@]}" run --backup never -m "$work/$2") ;;
    baseline) cmd=(env PGDATABASE=run "$BENCH_BASELINE" run --backup never -m "$work/$2") ;;
    flyway) cmd=(java -cp "$flyway_lib/*" org.flywaydb.commandline.Main "-url=jdbc:postgresql://localhost:$PGPORT/run" -user=bench
      -password=bench "-locations=filesystem:$work/$2" -postgresql.transactional.lock=false migrate) ;;
  esac
}
declare -A wall rss
measure() { # measure KEY: runs cmd, appends its wall seconds and max RSS (MB) under KEY; a failing command stops the benchmark
  local t0 t1
  t0=$(date +%s.%N)
  if ! /usr/bin/time -v -o "$work/time" "${cmd[@]}" > "$work/out" 2>&1; then
    echo "failed: ${cmd[*]}" >&2; tail -20 "$work/out" >&2; exit 1
  fi
  t1=$(date +%s.%N)
  wall[$1]+="$(echo "$t1 - $t0" | bc) "
  rss[$1]+="$(awk '/Maximum resident/ {printf "%.0f", $NF / 1024}' "$work/time") "
}
for r in $(seq "$rounds"); do
  echo "round $r of $rounds" >&2
  for w in A B; do
    for t in "${tools[@]}"; do
      fresh
      tool $t $w
      measure "$t/$w"
      if [ "$t" = pgshift ] || [ "$t" = baseline ]; then # in-app: reading and tokenizing the files, then the plan phase
        wall[plan/$t/$w]+="$(awk '$1 ~ /^(preflight|plan)$/ && $2 == "SUCCEEDED" {s += $3} END {print s}' "$work/out") "
      fi
      if [ "$w" = A ] && [ "$t" != psql ]; then
        for _ in 1 2 3; do measure "$t/none"; done # about a second each: three a round steady the median
      fi
    done
  done
done

m() { echo "${wall[$1]}" | median; }
mr() { echo "${rss[$1]}" | median; }
load=$(cut -d' ' -f1-3 /proc/loadavg)
printf '\n%s rounds, medians; %s cores, load average at the end %s; PostgreSQL %s\n\n' "$rounds" "$(nproc)" "$load" \
  "$(psql -X -At -d postgres -c 'show server_version')"
ref=flyway; [[ " ${tools[*]} " == *" flyway "* ]] || ref=pgshift # "nothing pending" is compared with Flyway's
printf '| tool | apply 201, fresh | x psql | apply 500, fresh | x psql | own ms per extra migration (slope - psql slope) | nothing pending | x %s | max RSS |\n' "$ref"
printf '|---|---|---|---|---|---|---|---|---|\n'
floor_a=$(m psql/A) floor_b=$(m psql/B)
floor_slope=$(echo "($floor_b - $floor_a) / (${count[B]} - ${count[A]})" | bc -l)
for t in "${tools[@]}"; do
  a=$(m $t/A) b=$(m $t/B)
  over=$(echo "(($b - $a) / (${count[B]} - ${count[A]}) - $floor_slope) * 1000" | bc -l)
  none=- nonex=-
  if [ "$t" != psql ]; then
    none=$(printf '%.2f s' "$(m $t/none)")
    nonex=$(printf '%.2f' "$(echo "$(m $t/none) / $(m $ref/none)" | bc -l)")
  fi
  peak=$(printf '%s\n' "$(mr $t/A)" "$(mr $t/B)" "$( [ $t = psql ] || mr $t/none)" | grep . | sort -n | tail -1)
  printf '| %s | %.2f s | %.2f | %.2f s | %.2f | %+.1f ms | %s | %s | %s MB |\n' "$t" "$a" "$(echo "$a / $floor_a" | bc -l)" "$b" \
    "$(echo "$b / $floor_b" | bc -l)" "$over" "$none" "$nonex" "$peak"
done
for t in pgshift baseline; do
  [[ " ${tools[*]} " == *" $t "* ]] || continue
  printf '\n%s in-app: preflight (read, tokenize) + plan phase, 201 files %.2f s, 500 files %.2f s (its summary)\n' "$t" \
    "$(m plan/$t/A)" "$(m plan/$t/B)"
done
