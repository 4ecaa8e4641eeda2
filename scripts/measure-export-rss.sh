#!/usr/bin/env bash
# Issue 21 item 2: the API's resident memory while it exports a calendar (streamed) and answers GET /calendars/{id},
# for calendars of different sizes with the same description length, so the growth can be compared.
# Starts its own PostgreSQL and Redis (data in .local/rss); for each GC mode and each calendar size a fresh API
# process (Release; built unless NO_BUILD=1): one calendar seeded through SQL, each route warmed once, then
#   exports: CONCURRENT exports of each format at once (2 x CONCURRENT streams), VmRSS sampled every 20 ms;
#   GET:     one GET /calendars/{id} alone (one JSON answer: it holds the whole calendar by design).
#   scripts/measure-export-rss.sh [DESCRIPTION_CHARS]   (default 1500: 10 000 events x 1 500 chars = 15 MB of text,
#                                                         within the default 16 MiB user bound)
# EVENTS ("1000 10000"), GC_MODES ("server workstation": the Web SDK's default is server GC), CONCURRENT (3),
# ports PG_PORT (55540), REDIS_PORT (56540), API_PORT (5190).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

PG_PORT=${PG_PORT:-55540} REDIS_PORT=${REDIS_PORT:-56540} API_PORT=${API_PORT:-5190}
CHARS=${1:-1500} CONCURRENT=${CONCURRENT:-3} EVENTS=${EVENTS:-"1000 10000"} GC_MODES=${GC_MODES:-"server workstation"}
DATA=$ROOT/.local/rss
start_bench_servers "$DATA" "$PG_PORT" "$REDIS_PORT" content_planning_rss
PSQL=(env PGOPTIONS='-c client_min_messages=warning' psql -h 127.0.0.1 -p "$PG_PORT" -U app -d content_planning_rss -qtA)
export Logging__LogLevel__Default=Warning OTEL_TRACES_SAMPLER=always_off
api_pid= sampler=
stop_api() {
  kill "$sampler" 2>/dev/null && wait "$sampler" 2>/dev/null || true
  stop_bench_pids "$api_pid"
  api_pid= sampler=
}
B=http://127.0.0.1:$API_PORT/api/content-planning

# seed N: one strategy, one calendar, N events with incompressible descriptions of CHARS characters.
seed() {
  "${PSQL[@]}" <<SQL
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
FROM c, generate_series(1, $1) g;
COMMIT;
SQL
  "${PSQL[@]}" -c "select id from generated_calendars limit 1"
}

rss() { awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$api_pid/status"; }
peak() { awk 'BEGIN { max = 0 } $1 > max { max = $1 } END { print max }' "$DATA/samples"; }
sample() { : >"$DATA/samples"; (while kill -0 "$api_pid" 2>/dev/null; do rss >>"$DATA/samples"; sleep 0.02; done) 2>/dev/null & sampler=$!; }
end_sample() { kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true; sampler=; }

echo "Calendar exports and GET /calendars/{id}: $CHARS-char descriptions, $CONCURRENT concurrent exports of each format"
echo "| GC | events | csv MB | ics MB | GET MB | RSS started / after 1st exports / after 1st GET | RSS baseline MB | peak during $((2 * CONCURRENT)) exports (growth) | peak during 1 GET (growth from the RSS before it) | VmHWM MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for gc in $GC_MODES; do
  for events in $EVENTS; do
    id=$(seed "$events")
    server=1; [ "$gc" = workstation ] && server=0
    start_bench_api api "http://127.0.0.1:$API_PORT" DOTNET_gcServer=$server
    api_pid=$STARTED_PID

    sleep 2
    started=$(rss)
    # Warm the code paths once (the process's first export and GET), then measure from the settled baseline.
    curl -fs "$B/calendars/$id/export?format=csv" -o "$DATA/export.csv"
    curl -fs "$B/calendars/$id/export?format=ics" -o "$DATA/export.ics"
    warm_exports=$(rss)
    curl -fs "$B/calendars/$id" -o "$DATA/calendar.json"
    warm_get=$(rss)
    rows=$(($(wc -l <"$DATA/export.csv") - 1))
    [ "$rows" -eq "$events" ] || { echo "the CSV export has $rows rows, expected $events" >&2; exit 1; }
    sleep 2
    base=$(rss)

    sample
    clients=()
    for format in csv ics; do
      for i in $(seq 1 "$CONCURRENT"); do
        curl -fs "$B/calendars/$id/export?format=$format" -o /dev/null & clients+=($!)
      done
    done
    wait "${clients[@]}"
    end_sample
    exports=$(peak)
    sleep 2
    before_get=$(rss)

    sample
    curl -fs "$B/calendars/$id" -o /dev/null
    end_sample
    get=$(peak)

    mb() { du -m "$1" | cut -f1; }
    hwm=$(awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$api_pid/status")
    echo "| $gc | $events | $(mb "$DATA/export.csv") | $(mb "$DATA/export.ics") | $(mb "$DATA/calendar.json") | $started / $warm_exports / $warm_get | $base | $exports (+$((exports - base))) | $get (+$((get - before_get)) from $before_get) | $hwm |"
    stop_api
  done
done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
