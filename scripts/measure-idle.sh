#!/usr/bin/env bash
# Issue 24: what one idle node costs PostgreSQL. Starts its own PostgreSQL and Redis (data in .local/idle), one API node
# with CalendarJobs__WorkersPerNode=WORKERS, lets it idle IDLE seconds after it is ready, then reads over WINDOW seconds:
#   transactions per second of its database (pg_stat_database: xact_commit + xact_rollback, minus this script's reads);
#   its connections by application_name (pg_stat_activity).
# Builds the API (Release) unless NO_BUILD=1.
#   scripts/measure-idle.sh
# Ports: PG_PORT (55570), REDIS_PORT (56570), API_PORT (56571). WORKERS (2), IDLE (20), WINDOW (30), ROUNDS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/servers.sh

PG_PORT=${PG_PORT:-55570} REDIS_PORT=${REDIS_PORT:-56570} API_PORT=${API_PORT:-56571}
WORKERS=${WORKERS:-2} IDLE=${IDLE:-20} WINDOW=${WINDOW:-30} ROUNDS=${ROUNDS:-2}
DATABASE=content_planning_idle
start_bench_servers "$PWD/.local/idle" "$PG_PORT" "$REDIS_PORT" "$DATABASE"

sql() { psql -h 127.0.0.1 -p "$PG_PORT" -U app -d "$DATABASE" -Atc "$1"; }
transactions() { sql "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$DATABASE'"; }

start_bench_api idle-node "http://127.0.0.1:$API_PORT" CalendarJobs__WorkersPerNode="$WORKERS" Cache__NodeId=idle-node \
  OTEL_SDK_DISABLED=true Logging__LogLevel__Default=Warning
echo "== One idle node, $WORKERS workers: $IDLE s idle, then $WINDOW s measured, $ROUNDS rounds"
sleep "$IDLE"
for round in $(seq 1 "$ROUNDS"); do
  before=$(transactions)
  sleep "$WINDOW"
  after=$(transactions)
  # Each read is a transaction of its own: the one that read "before" is counted in "after".
  echo "round $round: $(python3 -c "print(f'{($after - $before - 1) / $WINDOW:.2f}')") transactions per second"
done
echo "connections by application_name:"
sql "SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = '$DATABASE' AND pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1" |
  sed 's/^/  /; s/|/: /'
