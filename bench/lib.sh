# Shared by the benchmarks: build pgshift, start a throwaway PostgreSQL (role/database "bench"), export PG* for it.
# Sourced, not run. Stops the server when the benchmark exits. With bench_wal_archive=DIR set before, the server
# archives its WAL into DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
./mvnw -B -q package -DskipTests
mkfifo "$work/stdin"
./mvnw -B -q exec:java -Dexec.mainClass=dev.pgshift.testing.LocalServer -Dexec.classpathScope=test \
  -Dexec.args="$work/port ${bench_wal_archive:-}" < "$work/stdin" > "$work/server.log" 2>&1 &
exec 3>"$work/stdin"
while [ ! -s "$work/port" ]; do sleep 0.5; done
export PGHOST=localhost PGPORT=$(cat "$work/port") PGUSER=bench PGPASSWORD=bench PGDATABASE=bench PGSSLMODE=disable
pgshift=(target/quarkus-app/pgshift) # the launcher: the JVM flags of the image
# A fresh database "run" for one measured run.
fresh() { psql -q -X -d postgres -c "drop database if exists run" -c "create database run owner bench" >/dev/null 2>&1; }
# The median of numbers separated by blanks or lines, on stdin.
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
