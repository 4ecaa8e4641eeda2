#!/usr/bin/env bash
# The whole test suite: starts its own PostgreSQL and Redis (ports 55433/56380, data in .local/test),
# runs every test project, prints "N passed, N failed, N skipped", stops its servers.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

PG_PORT=${TEST_PG_PORT:-55433}
REDIS_PORT=${TEST_REDIS_PORT:-56380}
# PgBouncer (transaction pooling) in front of the test PostgreSQL: the pooler tests (Database/PgBouncerTests).
BOUNCER_PORT=${TEST_PGBOUNCER_PORT:-$((PG_PORT + 1))}
DATA=$ROOT/.local/test
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# chromium: the Hangfire dashboard test opens the dashboard in a real (headless) browser.
# nginx (Debian's nginx-light): the cluster tests run 3 nodes behind it (deploy/nginx).
ensure_packages chromium pgbouncer nginx=nginx-light
# python3-icalendar: the export tests read the ICS back with an iCalendar reader no one here wrote (Debian's python3).
if ! /usr/bin/python3 -c 'import icalendar' 2>/dev/null; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-icalendar >/dev/null
fi

cleanup() {
  stop_pgbouncer "$DATA/pgbouncer"
  stop_redis "$REDIS_PORT"
  stop_postgres "$DATA/pg"
}
trap cleanup EXIT

# Tests only ever see a throw-away cluster: start clean every time.
stop_pgbouncer "$DATA/pgbouncer"
stop_redis "$REDIS_PORT"
stop_postgres "$DATA/pg"
rm -rf "$DATA"
PG_FSYNC=off start_postgres "$DATA/pg" "$PG_PORT"
ensure_database "$PG_PORT" content_planning_test
start_redis "$DATA/redis" "$REDIS_PORT"
start_pgbouncer "$DATA/pgbouncer" "$BOUNCER_PORT" "$PG_PORT" transaction

export TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=app;Database=content_planning_test;Maximum Pool Size=100"
export TEST_REDIS="127.0.0.1:$REDIS_PORT"
export TEST_PG_DATA="$DATA/pg"
export TEST_PGBOUNCER="Host=127.0.0.1;Port=$BOUNCER_PORT;Username=app;Database=content_planning_test"
# The Prometheus round-trip test: a real Prometheus on 127.0.0.1 (a free port the test picks) scraping a Kestrel
# instance of the API.
export TEST_PROMETHEUS_DATA="$DATA/prometheus"

echo "== Building"
if ! dotnet build ContentPlanning.slnx -c Release -nologo -v quiet -clp:ErrorsOnly; then
  echo "Build failed."
  echo "0 passed, 0 failed"
  exit 1
fi

passed=0 failed=0 skipped=0 status=0
for project in tests/*.Tests/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  log=$DATA/$name.log
  set +e
  dotnet test "$project" -c Release --no-build --nologo --logger "console;verbosity=normal" \
    --results-directory "$DATA/results" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -ne 0 ] && status=1
  # VSTest summary block: "Total tests: N" then "Passed: N", "Failed: N", "Skipped: N" (zero counts omitted).
  if ! grep -qE '^Total tests: [0-9]+' "$log"; then
    echo "$name: no test summary (build or host failure)"; status=1; continue
  fi
  summary=$(sed -n '/^Total tests: /,$p' "$log")
  count() { grep -oE "^ +$1: +[0-9]+" <<<"$summary" | grep -oE '[0-9]+' | tail -n 1 || true; }
  p=$(count Passed); f=$(count Failed); s=$(count Skipped)
  p=${p:-0} f=${f:-0} s=${s:-0}
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

# Repeat every failure (name and message) just above the closing line, so the tail of a CI log says what broke.
if [ "$failed" -ne 0 ]; then
  echo "== Failures"
  for log in "$DATA"/*.Tests.log; do
    awk '/^ +Failed [^:]/ { show = 12 } show > 0 { print; show-- }' "$log" | cut -c1-300
  done
fi
if [ "$passed" -eq 0 ]; then echo "No test ran."; status=1; fi
[ "$failed" -ne 0 ] && status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
