#!/usr/bin/env bash
# How cost grows with the work (issue 22): its own PostgreSQL, Redis and API (Release, Auth__Mode=none) on 127.0.0.1;
# prints two README tables, measured on the server (Server-Timing) with the database commands the request made (the
# Npgsql operation counter of /metrics, before and after each request; the smallest delta of the runs, so background
# work of the node, such as job polling, does not count):
#   1. calendar generation for calendars of about 50, 250 and 450 events (calendar_type and pieces_per_day; a quarterly
#      calendar at 5 pieces a day on every day, about 450 events, is the largest the generator makes);
#   2. comprehensive-data assembly (force_refresh=true: no cache tier) for users with 10, 100 and 1 000 rows in each
#      source table (gap analyses, recommendations, analytics).
#   scripts/bench-scaling.sh [--runs N]   (default 5 runs per line; medians of the times)
# Ports: PostgreSQL 56491, Redis 56492, API 56493 (BENCH_PG_PORT, BENCH_REDIS_PORT, BENCH_API_PORT). Data in .local/bench-scaling.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

RUNS=5
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
PG_PORT=${BENCH_PG_PORT:-56491} REDIS_PORT=${BENCH_REDIS_PORT:-56492} API_PORT=${BENCH_API_PORT:-56493}
DATA=$ROOT/.local/bench-scaling
API=http://127.0.0.1:$API_PORT
B=$API/api/content-planning
start_bench_servers "$DATA" "$PG_PORT" "$REDIS_PORT" content_planning
export Logging__LogLevel__Default=Warning Admin__ApiKey=bench-admin-key-0123456789
export RateLimiting__CalendarGenerationPerMinute=1000000 RateLimiting__CacheWarmPerMinute=1000000
# Each user's byte bound is well above what the 1 000-row users and the largest calendar hold.
export Database__MaxUserSourceBytes=268435456
PSQL=(psql -q -h 127.0.0.1 -p "$PG_PORT" -U app -d content_planning -v ON_ERROR_STOP=1)

echo "== Seeding"
"${PSQL[@]}" <<'SQL'
-- Generation users: a profile posting every day, an active strategy with three pillars.
INSERT INTO user_profiles (user_id, industry, posting_days, platform_preferences)
SELECT u, 'technology', '["monday","tuesday","wednesday","thursday","friday","saturday","sunday"]',
       '{"linkedin": {"priority": "high"}, "blog": {"priority": "high"}, "youtube": {"priority": "medium"}}'
FROM unnest(ARRAY['gen-s', 'gen-m', 'gen-l']) u;
INSERT INTO content_strategies (user_id, name, industry, content_pillars)
SELECT u, 'Main', 'technology', '{"architecture": 3, "case studies": 2, "tutorials": 1}' FROM unnest(ARRAY['gen-s', 'gen-m', 'gen-l']) u;
INSERT INTO strategy_activation_status (strategy_id, user_id, status, activation_date)
SELECT id, user_id, 'active', now() FROM content_strategies WHERE user_id LIKE 'gen-%';
-- Assembly users: N rows in each source table.
INSERT INTO user_profiles (user_id, industry) SELECT 'rows-' || n, 'technology' FROM unnest(ARRAY[10, 100, 1000]) n;
INSERT INTO content_strategies (user_id, name, industry) SELECT 'rows-' || n, 'Main', 'technology' FROM unnest(ARRAY[10, 100, 1000]) n;
INSERT INTO strategy_activation_status (strategy_id, user_id, status, activation_date)
SELECT id, user_id, 'active', now() FROM content_strategies WHERE user_id LIKE 'rows-%';
INSERT INTO content_gap_analyses (user_id, website_url, analysis_results, recommendations, opportunities)
SELECT 'rows-' || n, 'https://example.com', jsonb_build_object('content_gaps', jsonb_build_array('gap ' || i)), '["r"]', jsonb_build_array('o ' || i)
FROM unnest(ARRAY[10, 100, 1000]) n, generate_series(1, n) i;
INSERT INTO content_recommendations (user_id, recommendation_type, title, priority, status)
SELECT 'rows-' || n, 'blog', 'Recommendation ' || i, (ARRAY['low', 'medium', 'high'])[1 + i % 3], 'pending'
FROM unnest(ARRAY[10, 100, 1000]) n, generate_series(1, n) i;
INSERT INTO content_analytics (user_id, platform, metrics, performance_score)
SELECT 'rows-' || n, (ARRAY['linkedin', 'blog', 'youtube'])[1 + i % 3], jsonb_build_object('views', i), 50
FROM unnest(ARRAY[10, 100, 1000]) n, generate_series(1, n) i;
ANALYZE;
SQL

start_bench_api api "$API"

db_commands() { curl -s "$API/metrics" | awk '/^db_client_operation_duration_seconds_count/ { s += $NF } END { printf "%d\n", s }'; }

# measure LABEL METHOD URL [BODY]: RUNS requests; appends "label server_ms db_commands extra" per run to $DATA/runs.
measure() {
  local label=$1 method=$2 url=$3 body=${4:-} before after headers out
  for _ in $(seq 1 "$RUNS"); do
    before=$(db_commands)
    headers=$(mktemp) out=$(mktemp)
    if [ -n "$body" ]; then
      curl -s -o "$out" -D "$headers" -X "$method" -H 'Content-Type: application/json' -d "$body" "$url"
    else
      curl -s -o "$out" -D "$headers" -X "$method" "$url"
    fi
    after=$(db_commands)
    python3 - "$label" "$headers" "$out" "$before" "$after" >> "$DATA/runs" <<'EOF'
import json, re, sys
label, headers, out, before, after = sys.argv[1:6]
timing = re.search(r"dur=([0-9.]+)", open(headers).read())
body = json.load(open(out))
extra = body.get("event_count", "") if isinstance(body, dict) else ""
print(label, timing.group(1) if timing else "nan", int(after) - int(before), extra)
EOF
    rm -f "$headers" "$out"
  done
}

echo "== Warming (JIT)"
RUNS_SAVED=$RUNS RUNS=2
measure warm POST "$B/calendar-generation/generate-calendar" '{"user_id": "gen-s", "calendar_type": "weekly"}'
measure warm GET "$B/calendar-generation/comprehensive-user-data?user_id=rows-10&force_refresh=true"
RUNS=$RUNS_SAVED

echo "== Measuring ($RUNS runs a line; load: $(uptime | sed 's/.*load average: //'))"
measure "monthly,2/day" POST "$B/calendar-generation/generate-calendar" '{"user_id": "gen-s", "calendar_type": "monthly", "pieces_per_day": 2}'
measure "quarterly,3/day" POST "$B/calendar-generation/generate-calendar" '{"user_id": "gen-m", "calendar_type": "quarterly", "pieces_per_day": 3}'
measure "quarterly,5/day" POST "$B/calendar-generation/generate-calendar" '{"user_id": "gen-l", "calendar_type": "quarterly", "pieces_per_day": 5}'
for n in 10 100 1000; do
  measure "rows-$n" GET "$B/calendar-generation/comprehensive-user-data?user_id=rows-$n&force_refresh=true"
done
echo "   load after: $(uptime | sed 's/.*load average: //')"

python3 - "$DATA/runs" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if parts[0] == "warm": continue
    rows.setdefault(parts[0], []).append(parts)
def med(values): return round(statistics.median(values), 1)
print()
print("| calendar | events | server ms (median) | database commands per generation (min / max) |")
print("|---|---:|---:|---:|")
for label in ("monthly,2/day", "quarterly,3/day", "quarterly,5/day"):
    runs = rows.get(label, [])
    if not runs: continue
    events = runs[0][3] if len(runs[0]) > 3 else "?"
    commands = [int(r[2]) for r in runs]
    print(f"| {label} | {events} | {med([float(r[1]) for r in runs])} | {min(commands)} / {max(commands)} |")
print()
print("| rows per source table | server ms, assembly (median) | database commands per read (min / max) |")
print("|---:|---:|---:|")
for n in (10, 100, 1000):
    runs = rows.get(f"rows-{n}", [])
    if not runs: continue
    commands = [int(r[2]) for r in runs]
    print(f"| {n} | {med([float(r[1]) for r in runs])} | {min(commands)} / {max(commands)} |")
EOF
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1); server times from Server-Timing"
