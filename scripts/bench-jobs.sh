#!/usr/bin/env bash
# Calendar jobs under load (issue 12): its own PostgreSQL, Redis and API processes (Release) on 127.0.0.1.
#   1. 20 concurrent quarterly starts (20 users) against one node, then against two nodes: queue wait and run time
#      (from calendar_jobs: started_at - created_at, finished_at - started_at), p50 / p95 / max, and the makespan;
#   2. takeover: a job runs on node A (steps paced to 1 s), node B is up, A is SIGKILLed: the time until B runs it.
#   scripts/bench-jobs.sh [--jobs N] [--lease SECONDS]
# Ports: PostgreSQL 56491, Redis 56492, API 56493/56494 (BENCH_JOBS_PORT_BASE=56490 moves them). Data in .local/bench-jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

JOBS=20 LEASE=30
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) JOBS=$2; shift 2 ;;
    --lease) LEASE=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

BASE=${BENCH_JOBS_PORT_BASE:-56490}
PG_PORT=$((BASE + 1)) REDIS_PORT=$((BASE + 2))
DATA=$ROOT/.local/bench-jobs
start_bench_servers "$DATA" "$PG_PORT" "$REDIS_PORT" content_planning
export Logging__LogLevel__Default=Warning Admin__ApiKey=bench-admin-key-0123456789
export RateLimiting__CalendarGenerationPerMinute=1000000 OTEL_TRACES_SAMPLER=always_off
PSQL=(psql -qtA -h 127.0.0.1 -p "$PG_PORT" -U app -d content_planning)
"${PSQL[@]}" -c "INSERT INTO content_strategies (user_id, name, industry, content_pillars, business_objectives)
  SELECT 'jobs-' || i, 'Plan', 'retail', '{\"Education\": 3, \"Stories\": 1}', '[\"brand awareness\"]' FROM generate_series(1, $JOBS) i"

# start_node N [ENV=VALUE ...]: API node N (1 or 2) on port BASE+2+N; waits until ready.
start_node() {
  local n=$1; shift
  start_bench_api "node-$n" "http://127.0.0.1:$((BASE + 2 + n))" Cache__NodeId="jobs-node-$n" "$@"
  NODE_PID[n]=$STARTED_PID
}
stop_nodes() { stop_bench_pids; }

# concurrent NODES: JOBS quarterly starts at once, spread over the nodes; waits for all; prints one table row.
concurrent() {
  local nodes=$1 i start clients=()
  "${PSQL[@]}" -c "DELETE FROM calendar_jobs; DELETE FROM generated_calendars"
  start=$(date +%s.%N)
  for i in $(seq 1 "$JOBS"); do
    curl -sf -o /dev/null -H 'Content-Type: application/json' \
      -d "{\"user_id\": \"jobs-$i\", \"calendar_type\": \"quarterly\", \"pieces_per_day\": 3}" \
      "http://127.0.0.1:$((BASE + 2 + (i % nodes) + 1))/api/content-planning/calendar-generation/start" &
    clients+=($!)
  done
  # The starts only: a bare wait would also wait for the API nodes, which are children of this script too.
  wait "${clients[@]}"
  for _ in $(seq 1 600); do
    [ "$("${PSQL[@]}" -c "SELECT count(*) FROM calendar_jobs WHERE status IN ('completed', 'failed')")" -ge "$JOBS" ] && break
    sleep 0.1
  done
  "${PSQL[@]}" -F ' | ' -c "
    SELECT '$nodes', count(*) FILTER (WHERE status = 'completed'),
      round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)))::text || ' / '
        || round(1000 * percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)))::text || ' / '
        || round(1000 * max(extract(epoch FROM started_at - created_at)))::text,
      round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at)))::text || ' / '
        || round(1000 * percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at)))::text || ' / '
        || round(1000 * max(extract(epoch FROM finished_at - started_at)))::text,
      round(1000 * extract(epoch FROM max(finished_at) - min(created_at)))::text,
      string_agg(DISTINCT node, ',')
    FROM calendar_jobs" | sed 's/^/| /; s/$/ |/'
}

echo
echo "== $JOBS concurrent quarterly jobs (3 pieces a day, 252 events each), 2 workers per node"
echo "| nodes | completed | queue wait ms p50 / p95 / max | run time ms p50 / p95 / max | makespan ms | ran on |"
echo "|---|---|---|---|---|---|"
start_node 1; concurrent 1; stop_nodes
start_node 1; start_node 2; concurrent 2; stop_nodes

echo
echo "== Takeover: lease ${LEASE} s, steps paced to 1 s, the node running the job SIGKILLed at step 2"
"${PSQL[@]}" -c "DELETE FROM calendar_jobs; DELETE FROM generated_calendars"
PACE=(CalendarJobs__MinimumStepDuration=00:00:01 CalendarJobs__LeaseDuration=$(printf '00:00:%02d' "$LEASE"))
# Both nodes are up before the job starts (a node started later could miss a job that ends while it starts up); the
# job runs on either, and that node is killed.
start_node 1 "${PACE[@]}"; start_node 2 "${PACE[@]}"
session=$(curl -sf -H 'Content-Type: application/json' -d '{"user_id": "jobs-1", "calendar_type": "monthly"}' \
  "http://127.0.0.1:$((BASE + 3))/api/content-planning/calendar-generation/start" | sed 's/.*"session_id":"\([^"]*\)".*/\1/')
until [ "$("${PSQL[@]}" -c "SELECT current_step FROM calendar_jobs WHERE session_id = '$session'")" -ge 2 ]; do sleep 0.1; done
runner=$("${PSQL[@]}" -c "SELECT node FROM calendar_jobs WHERE session_id = '$session'")
kill -9 "${NODE_PID[${runner#jobs-node-}]}"
killed=$(date +%s.%N)
until [ "$("${PSQL[@]}" -c "SELECT attempt FROM calendar_jobs WHERE session_id = '$session'")" -ge 2 ]; do sleep 0.1; done
taken=$(date +%s.%N)
until [ "$("${PSQL[@]}" -c "SELECT status FROM calendar_jobs WHERE session_id = '$session'")" = completed ]; do sleep 0.2; done
awk -v a="$killed" -v b="$taken" -v l="$LEASE" 'BEGIN { printf "node killed -> job running on the other node: %.1f s (lease %d s)\n", b - a, l }'
echo "calendars stored for the job: $("${PSQL[@]}" -c "SELECT count(*) FROM generated_calendars WHERE user_id = 'jobs-1'"), final state: $("${PSQL[@]}" -c "SELECT status || ', attempt ' || attempt || ', on ' || node FROM calendar_jobs WHERE session_id = '$session'")"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
