#!/usr/bin/env bash
# The chaos soak at any size: N trials (default 100), each a fresh database, a pgshift run killed (mostly SIGKILL, one in
# five SIGTERM) at a seeded random point weighted so that the backup and each concurrent build are hit, then run again
# with no manual step and checked (exit 0, every version once, exactly the expected valid indexes, row counts, no orphan
# backup file, no pgshift session left). Prints each trial and where the signals landed. CI runs 8 (seed 20261124).
#   bench/chaos-soak.sh [N] [SEED] [PG_VERSION]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
seed=${2:-$RANDOM$RANDOM}
pg=${3:-15.14.0}
./mvnw -B -q -Dpg.version="$pg" -DskipTests package
./mvnw -B -q -Dpg.version="$pg" -Dit.test=ChaosSoakIT -Dsoak.trials="$n" -Dsoak.seed="$seed" \
  exec:exec@pg-clients failsafe:integration-test failsafe:verify 2>&1 | grep --line-buffered -E '^chaos soak|Tests run|FAIL|expected' || true
grep -q 'failures="0"' target/failsafe-reports/TEST-dev.pgshift.run.ChaosSoakIT.xml 2>/dev/null && grep -q 'errors="0"' \
  target/failsafe-reports/TEST-dev.pgshift.run.ChaosSoakIT.xml
