#!/usr/bin/env bash
# The whole suite on every supported PostgreSQL major: the unit and chart tests and the package once, then every
# integration test class (backups included) against a server of each major, with a pg_dump of that major or newer
# (.ci/pg-clients.sh). Prints a line per major with its counts and time, and fails if any major failed.
#
#   .ci/pg-majors.sh                     the five majors below
#   .ci/pg-majors.sh 17.6.0 18.1.0       some (zonky versions of io.zonky.test.postgres:embedded-postgres-binaries-*)
#
# Each major's failsafe reports and Maven output are kept in target/pg-majors/<version>/.
set -uo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(14.19.0 15.14.0 16.10.0 17.6.0 18.1.0)

# Every client the majors need, fetched up front (once; cached), so a missing one fails before anything runs.
clients=()
for v in "${versions[@]}"; do
  case "${v%%.*}" in
    14 | 15) clients+=(15) ;;
    16) clients+=(15 17) ;;
    17) clients+=(15 17) ;;
    18) clients+=(17 18) ;;
    *) echo "pg-majors: PostgreSQL $v is not a supported major (14 to 18)" >&2; exit 1 ;;
  esac
done
.ci/pg-clients.sh $(printf '%s\n' "${clients[@]}" | sort -u) >/dev/null || exit 1

start=$SECONDS
echo "== unit and chart tests, package"
./mvnw -B -ntp verify -DskipITs || { echo "pg-majors: the unit tests or the package failed" >&2; exit 1; }

rm -rf target/pg-majors
summary=()
failed=0
for v in "${versions[@]}"; do
  echo "== PostgreSQL $v: integration tests"
  out="target/pg-majors/$v"
  mkdir -p "$out"
  rm -rf target/failsafe-reports
  t=$SECONDS
  # The jar is already packaged: only fetch the clients and run failsafe against this major's server.
  # What does not depend on the server's major runs once, on 15 (the README's default), which keeps the whole run well
  # inside CI's time: ContainerIT (the image and the chart's pods), ChaosSoakIT (8 seeded kill trials of the run
  # lifecycle), OperatorOutputIT and CliContractIT (what the CLI prints), LargeFileIT (a 50 MiB file in a 256 MiB heap). FaultsIT (kills, stops, lost connections,
  # client_connection_check_interval, idle_session_timeout) runs on the oldest, the default and the newest major. Tests
  # tagged one-major (dev.pgshift.testing.OneMajor: what a backup does with its files, ...) run on 15 only.
  only=()
  case "${v%%.*}" in
    15) ;;
    14|18) only=(-Dit.test='*IT,!ContainerIT,!ChaosSoakIT,!OperatorOutputIT,!CliContractIT,!LargeFileIT' -DexcludedGroups=one-major) ;;
    *) only=(-Dit.test='*IT,!ContainerIT,!ChaosSoakIT,!OperatorOutputIT,!CliContractIT,!LargeFileIT,!FaultsIT' -DexcludedGroups=one-major) ;;
  esac
  ./mvnw -B -ntp -Dpg.version="$v" "${only[@]}" exec:exec@pg-clients failsafe:integration-test failsafe:verify 2>&1 | tee "$out/maven.log"
  rc=${PIPESTATUS[0]}
  took=$((SECONDS - t))
  cp -r target/failsafe-reports/. "$out/" 2>/dev/null
  counts="no test report"
  if [ -f "$out/failsafe-summary.xml" ]; then
    tag() { sed -n "s:.*<$1>\([0-9]*\)</$1>.*:\1:p" "$out/failsafe-summary.xml"; }
    counts="$(tag completed) tests, $(tag failures) failures, $(tag errors) errors, $(tag skipped) skipped"
  fi
  verdict=passed
  [ "$rc" = 0 ] || { verdict=FAILED; failed=1; }
  summary+=("$(printf 'PostgreSQL %-8s %-7s %s in %dm%02ds' "$v" "$verdict" "$counts" $((took / 60)) $((took % 60)))")
  echo "${summary[-1]}"
done

echo "== every major ($(( (SECONDS - start) / 60 ))m$(printf '%02d' $(( (SECONDS - start) % 60 )))s in all)"
printf '%s\n' "${summary[@]}"
exit $failed
