#!/usr/bin/env bash
# pgshift's own cost per small migration: `pgshift migrate` (no backup) of N and of M generated small DDL migrations,
# each on a fresh database, against psql running the same files in one session (the floor). Prints the medians and the
# slope per migration of each, and pgshift's overhead per migration (its slope minus psql's).
#   bench/per-migration-overhead.sh [rounds] [N] [M]        (defaults 5, 100, 400)
source "$(dirname "$0")/lib.sh"
rounds=${1:-5}
small=${2:-100}
large=${3:-400}
gen() { # gen DIR COUNT: COUNT small DDL migrations
  mkdir -p "$1"
  for i in $(seq "$2"); do
    printf -- '-- migration %d\nCREATE TABLE t%d (id bigint PRIMARY KEY, name text NOT NULL);\nALTER TABLE t%d ADD COLUMN note text;\nCREATE INDEX t%d_name ON t%d (name);\n' \
      "$i" "$i" "$i" "$i" "$i" > "$1/V${i}__t${i}.sql"
  done
}
gen "$work/m$small" "$small"
gen "$work/m$large" "$large"
elapsed() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
declare -A times
for r in $(seq "$rounds"); do
  for n in "$small" "$large"; do
    fresh
    times[psql_$n]+="$(elapsed bash -c "cat $work/m$n/V{1..$n}__*.sql | psql -q -X -v ON_ERROR_STOP=1 -d run") "
    fresh
    times[pgshift_$n]+="$(elapsed env PGDATABASE=run "${pgshift[@]}" migrate --bundled=false --migrations "$work/m$n" --backup never) "
  done
done
for tool in psql pgshift; do
  s=$(echo "${times[${tool}_$small]}" | median); l=$(echo "${times[${tool}_$large]}" | median)
  slope=$(echo "($l - $s) * 1000 / ($large - $small)" | bc -l)
  printf '%-8s %4d migrations %6.2fs   %4d migrations %6.2fs   slope %5.2f ms/migration\n' "$tool" "$small" "$s" "$large" "$l" "$slope"
  eval "slope_$tool=$slope"
done
printf 'pgshift overhead per migration (slope minus psql slope): %.2f ms\n' "$(echo "$slope_pgshift - $slope_psql" | bc -l)"
