#!/usr/bin/env bash
# Issue 21 item 2: the API's resident memory while it exports a calendar of 10 000 events (streamed) and answers
# GET /calendars/{id} for it. Starts its own PostgreSQL and Redis (ports from PG_PORT/REDIS_PORT, data in
# .local/rss), runs the Release build of the API (build it first), seeds one calendar through SQL, then runs
# CONCURRENT exports of each format at once and samples VmRSS of the API process every 20 ms.
#   scripts/measure-export-rss.sh [DESCRIPTION_CHARS]   (default 1500: 10 000 events x 1 500 chars = 15 MB of text,
#                                                         within the default 16 MiB user bound)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

PG_PORT=${PG_PORT:-55540} REDIS_PORT=${REDIS_PORT:-56540} API_PORT=${API_PORT:-5190}
CHARS=${1:-1500} CONCURRENT=${CONCURRENT:-3}
DATA=$ROOT/.local/rss
API_DLL=$ROOT/src/ContentPlanning.Api/bin/Release/net10.0/ContentPlanning.Api.dll
[ -f "$API_DLL" ] || { echo "Build first: dotnet build src/ContentPlanning.Api -c Release"; exit 1; }

api_pid=
cleanup() {
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  stop_redis "$REDIS_PORT"
  stop_postgres "$DATA/pg"
}
trap cleanup EXIT
start_postgres "$DATA/pg" "$PG_PORT"
ensure_database "$PG_PORT" content_planning_rss
start_redis "$DATA/redis" "$REDIS_PORT"

ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=app;Database=content_planning_rss" \
ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT" Auth__Mode=none ASPNETCORE_URLS="http://127.0.0.1:$API_PORT" \
Logging__LogLevel__Default=Warning dotnet "$API_DLL" >"$DATA/api.log" 2>&1 &
api_pid=$!
B=http://127.0.0.1:$API_PORT
for _ in $(seq 1 150); do curl -fs "$B/health/live" >/dev/null 2>&1 && break; sleep 0.2; done

# One strategy, one calendar, 10 000 events with incompressible descriptions (the bound raised for this session only).
psql -h 127.0.0.1 -p "$PG_PORT" -U app -d content_planning_rss -q <<SQL
TRUNCATE content_strategies CASCADE;
BEGIN;
SET LOCAL content_planning.max_user_source_bytes = 10000000000;
WITH s AS (INSERT INTO content_strategies (user_id, name) VALUES ('rss-user', 'RSS') RETURNING id),
     c AS (INSERT INTO generated_calendars (user_id, strategy_id, calendar_type, start_date, end_date, request, result)
           SELECT 'rss-user', id, 'quarterly', '2026-03-02', '2026-05-24', '{}',
                  jsonb_build_object('id', 0, 'timezone', 'Europe/Berlin', 'start_date', '2026-03-02') FROM s RETURNING id, strategy_id)
INSERT INTO calendar_events (strategy_id, calendar_id, title, description, scheduled_at, status, platform, pillar)
SELECT c.strategy_id, c.id, 'Event ' || g || ' ' || repeat('😀', 20),
       left(repeat(md5(g::text || 'a') || md5(g::text || 'b'), ($CHARS / 64) + 1), $CHARS),
       '2026-03-02'::timestamptz + g * interval '10 minutes', 'scheduled', 'blog', 'Guides'
FROM c, generate_series(1, 10000) g;
COMMIT;
SQL
ID=$(psql -h 127.0.0.1 -p "$PG_PORT" -U app -d content_planning_rss -tAc "select id from generated_calendars limit 1")

rss() { awk '/^VmRSS/ {print int($2/1024)}' "/proc/$api_pid/status"; }
peak=0
sample() { while kill -0 "$api_pid" 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" >"$DATA/peak"; sleep 0.02; done; }

# Warm the code paths once, then measure from the settled baseline.
curl -fs "$B/api/content-planning/calendars/$ID/export?format=csv" -o /dev/null
curl -fs "$B/api/content-planning/calendars/$ID/export?format=ics" -o /dev/null
curl -fs "$B/api/content-planning/calendars/$ID" -o /dev/null
sleep 1
base=$(rss)
echo 0 >"$DATA/peak"
sample & sampler=$!
start=$(date +%s.%N)
clients=()
for format in csv ics; do
  for i in $(seq 1 "$CONCURRENT"); do
    curl -fs "$B/api/content-planning/calendars/$ID/export?format=$format" -o "$DATA/export-$i.$format" & clients+=($!)
  done
done
curl -fs "$B/api/content-planning/calendars/$ID" -o "$DATA/calendar.json" & clients+=($!)
wait "${clients[@]}"
end=$(date +%s.%N)
kill "$sampler" 2>/dev/null || true
events_csv=$(($(wc -l <"$DATA/export-1.csv") - 1))
echo "10 000 events x $CHARS-char descriptions: csv $(du -m "$DATA/export-1.csv" | cut -f1) MB ($events_csv rows), ics $(du -m "$DATA/export-1.ics" | cut -f1) MB, GET /calendars/{id} $(du -m "$DATA/calendar.json" | cut -f1) MB"
echo "$CONCURRENT concurrent exports of each format + 1 GET /calendars/{id} in $(echo "$end - $start" | bc) s: RSS baseline ${base} MB, peak $(cat "$DATA/peak") MB"
