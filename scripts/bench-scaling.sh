#!/usr/bin/env bash
# How cost grows with the work (issue 22): its own PostgreSQL, Redis and API (Release, Auth__Mode=none) on 127.0.0.1;
# prints two README tables, measured on the server (Server-Timing) with the database commands the request made (the
# Npgsql operation counter of /metrics, before and after each request; the smallest delta of the runs, so background
# work of the node, such as job polling, does not count):
#   1. calendar generation for calendars of about 50, 250, 450 and 1 500 events (calendar_type and pieces_per_day; a
#      yearly calendar at 4 pieces a day on every day makes 1 456);
#   2. comprehensive-data assembly (force_refresh=true: no cache tier) for users with 10, 100 and 1 000 rows in each
#      source table (gap analyses, recommendations, analytics).
#   3. with --large: the list and summary routes for one user with a typical amount of data (2 strategies, 2 calendars of
#      50 events, 10 recommendations, 10 analytics records, 2 gap analyses), first among 1 000 such users (100 000
#      calendar events in all), then among 10 000 (1 000 000 events): p50 and p95 of the server time over --list-runs
#      requests a route, then each route's plans as PostgreSQL ran them for the API (auto_explain: EXPLAIN ANALYZE,
#      BUFFERS of every statement the requests sent, with their parameters), in $DATA/plans.txt, key lines printed.
#   scripts/bench-scaling.sh [--runs N] [--large] [--list-runs N]   (default 5 runs per line, medians of the times;
#   200 requests a route for the lists)
# Ports: PostgreSQL 56491, Redis 56492, API 56493 (BENCH_PG_PORT, BENCH_REDIS_PORT, BENCH_API_PORT). Data in .local/bench-scaling.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

RUNS=5 LARGE=0 LIST_RUNS=200
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --large) LARGE=1; shift ;;
    --list-runs) LIST_RUNS=$2; shift 2 ;;
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
FROM unnest(ARRAY['gen-s', 'gen-m', 'gen-l', 'gen-xl']) u;
INSERT INTO content_strategies (user_id, name, industry, content_pillars)
SELECT u, 'Main', 'technology', '{"architecture": 3, "case studies": 2, "tutorials": 1}' FROM unnest(ARRAY['gen-s', 'gen-m', 'gen-l', 'gen-xl']) u;
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

start_api() { start_bench_api api "$API"; API_PID=$STARTED_PID; }
stop_api() { stop_bench_pids "$API_PID"; API_PID=; }
start_api

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
measure "yearly,4/day" POST "$B/calendar-generation/generate-calendar" '{"user_id": "gen-xl", "calendar_type": "yearly", "pieces_per_day": 4}'
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
for label in ("monthly,2/day", "quarterly,3/day", "quarterly,5/day", "yearly,4/day"):
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

if [ "$LARGE" = 1 ]; then
  # seed_users FROM TO: users big-FROM..big-TO (5 digits), each with a typical amount of data, in batches of 1 000 users,
  # one transaction each (the triggers of migrations 0008/0012 take an advisory lock per user and per calendar; a batch
  # stays well inside the lock table). Every row goes through the tables' triggers and constraints.
  seed_users() {
    local lo hi
    for lo in $(seq "$1" 1000 "$2"); do
      hi=$((lo + 999)); [ "$hi" -gt "$2" ] && hi=$2
      "${PSQL[@]}" -1 -v ulo="$(printf 'big-%05d' "$lo")" -v uhi="$(printf 'big-%05d' "$hi")" -v lo="$lo" -v hi="$hi" <<'SQL'
-- Statistics as autovacuum would keep them: the triggers' statements are planned with them (a plan made for a table of
-- 10 000 events is no plan for one of 1 000 000).
ANALYZE;
INSERT INTO user_profiles (user_id, industry, posting_days)
SELECT 'big-' || lpad(i::text, 5, '0'), 'technology', '["monday", "wednesday", "friday"]' FROM generate_series(:lo, :hi) i;
INSERT INTO content_strategies (user_id, name, industry, content_pillars, business_objectives)
SELECT 'big-' || lpad(i::text, 5, '0'), 'Plan ' || k, 'technology', '{"architecture": 3, "case studies": 2}', '["brand awareness"]'
FROM generate_series(:lo, :hi) i, generate_series(1, 2) k;
INSERT INTO strategy_activation_status (strategy_id, user_id, status, activation_date)
SELECT id, user_id, 'active', now() FROM content_strategies WHERE user_id BETWEEN :'ulo' AND :'uhi' AND name = 'Plan 1';
INSERT INTO content_gap_analyses (user_id, website_url, target_keywords, opportunities)
SELECT 'big-' || lpad(i::text, 5, '0'), 'https://example.com/' || i, '["observability"]', jsonb_build_array('opportunity ' || k)
FROM generate_series(:lo, :hi) i, generate_series(1, 2) k;
INSERT INTO content_recommendations (user_id, strategy_id, recommendation_type, title, priority, status)
SELECT s.user_id, s.id, 'blog', 'Recommendation ' || k, (ARRAY['low', 'medium', 'high'])[1 + k % 3], (ARRAY['pending', 'accepted'])[1 + k % 2]
FROM content_strategies s, generate_series(1, 10) k WHERE s.user_id BETWEEN :'ulo' AND :'uhi' AND s.name = 'Plan 1';
INSERT INTO content_analytics (user_id, strategy_id, platform, metrics, performance_score)
SELECT s.user_id, s.id, (ARRAY['linkedin', 'blog'])[1 + k % 2], jsonb_build_object('views', 100 * k, 'clicks', k), 40 + k
FROM content_strategies s, generate_series(1, 10) k WHERE s.user_id BETWEEN :'ulo' AND :'uhi' AND s.name = 'Plan 1';
INSERT INTO generated_calendars (user_id, strategy_id, calendar_type, start_date, end_date, request, result)
SELECT s.user_id, s.id, 'monthly', current_date - 14, current_date + 13, '{"calendar_type": "monthly"}', '{"quality_score": 0.8}'
FROM content_strategies s WHERE s.user_id BETWEEN :'ulo' AND :'uhi';
-- 50 events a calendar, 13 hours apart from two weeks ago (past and upcoming ones), mostly scheduled.
INSERT INTO calendar_events (strategy_id, calendar_id, title, description, content_type, platform, scheduled_at, status, pillar)
SELECT c.strategy_id, c.id, 'Piece ' || k || ' of calendar ' || c.id, 'An article for the blog on observability, in the week''s theme.',
       'article', (ARRAY['linkedin', 'blog', 'youtube'])[1 + k % 3], now() - interval '14 days' + k * interval '13 hours',
       (ARRAY['scheduled', 'scheduled', 'scheduled', 'scheduled', 'scheduled', 'scheduled', 'scheduled', 'draft', 'draft', 'published'])[1 + k % 10],
       (ARRAY['architecture', 'case studies'])[1 + k % 2]
FROM generated_calendars c, generate_series(1, 50) k WHERE c.user_id BETWEEN :'ulo' AND :'uhi';
SQL
    done
    "${PSQL[@]}" -c 'VACUUM (ANALYZE)'
  }

  totals() {
    "${PSQL[@]}" -tAc "SELECT (SELECT count(*) FROM user_profiles WHERE user_id LIKE 'big-%') || ' users, '
                              || (SELECT count(*) FROM calendar_events WHERE calendar_id IN (SELECT id FROM generated_calendars WHERE user_id LIKE 'big-%')) || ' events'"
  }

  # list_routes SIZE [PLAN_LOG]: the routes for big-00500 (seeded with the first 1 000 users, so the same rows at both
  # sizes). Without PLAN_LOG: p50/p95 of the server time over LIST_RUNS requests a route on one keep-alive connection,
  # after 20 unmeasured ones, and the database commands of a request (the smallest /metrics delta of 5 requests). With
  # PLAN_LOG (the PostgreSQL log, auto_explain on): 15 unmeasured requests a route (so Npgsql has prepared the statements
  # and PostgreSQL's plan cache has chosen between a custom and a generic plan), then the plans of one more request.
  list_routes() {
    python3 - "$1" "$API" "$LIST_RUNS" "$DATA/lists" "${2:-}" \
      "$("${PSQL[@]}" -tAc "SELECT s.id || ' ' || c.id FROM content_strategies s JOIN generated_calendars c ON c.strategy_id = s.id WHERE s.user_id = 'big-00500' AND s.name = 'Plan 1'")" <<'EOF'
import http.client, json, os, re, statistics, sys, time, urllib.parse
size, api, runs, out, plan_log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
strategy, calendar = sys.argv[6].split()
address = urllib.parse.urlparse(api)
conn = http.client.HTTPConnection(address.hostname, address.port)
B = "/api/content-planning"
def get(path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit(f"{path}: {r.status} {body[:300]!r}")
    t = re.search(r"dur=([0-9.]+)", r.getheader("Server-Timing") or "")
    return float(t.group(1)), body
def commands():
    _, body = get("/metrics")
    return sum(float(l.split()[-1]) for l in body.decode().splitlines() if l.startswith("db_client_operation_duration_seconds_count"))
first = json.loads(get(f"{B}/calendar-events?user_id=big-00500&limit=20")[1])
routes = [
    ("GET /strategies?user_id=U", f"{B}/strategies?user_id=big-00500"),
    ("GET /calendars?user_id=U", f"{B}/calendars?user_id=big-00500"),
    ("GET /calendar-events?user_id=U&limit=20", f"{B}/calendar-events?user_id=big-00500&limit=20"),
    ("GET /calendar-events?user_id=U&limit=20&cursor=(page 2)", f"{B}/calendar-events?user_id=big-00500&limit=20&cursor={urllib.parse.quote(first['next_cursor'])}"),
    ("GET /calendar-events?calendar_id=C&limit=20", f"{B}/calendar-events?calendar_id={calendar}&limit=20"),
    ("GET /strategies/S/events?status=scheduled&limit=20", f"{B}/strategies/{strategy}/events?status=scheduled&limit=20"),
    ("GET /strategies/S/summary?force_refresh=true", f"{B}/strategies/{strategy}/summary?force_refresh=true"),
    ("GET /gap-analysis?user_id=U", f"{B}/gap-analysis?user_id=big-00500"),
    ("GET /users/U/recommendations", f"{B}/users/big-00500/recommendations"),
    ("GET /analytics?user_id=U", f"{B}/analytics?user_id=big-00500"),
    ("GET /strategies/S/analytics", f"{B}/strategies/{strategy}/analytics"),
]
if plan_log:
    background = re.compile(r"hangfire|calendar_jobs|service_settings|pg_advisory|pg_notify|data_protection|schema_migrations", re.I)
    with open(out + ".plans.txt", "w") as f:
        for label, path in routes:
            for _ in range(15):
                get(path)
            time.sleep(0.2)
            start = os.path.getsize(plan_log)
            get(path)
            time.sleep(0.5)  # the log is written by the server's logging path; let it land
            with open(plan_log, errors="replace") as log:
                log.seek(start)
                entries = re.split(r"\n(?=\S)", log.read())
            plans = [e for e in entries if "plan:" in e and "Query Text:" in e and not background.search(e)]
            f.write(f"==== {label}: {len(plans)} statements\n" + "\n".join(plans) + "\n\n")
            print(f"   {label}")
            for plan in plans:
                query = " ".join(plan.split("Query Text:", 1)[1].split("\n\t")[0].split())
                body = plan.split("Query Text:", 1)[1]
                duration = re.search(r"duration: ([0-9.]+) ms", plan).group(1)
                # A generic plan keeps the bind parameters ($1...) in its conditions; an InitPlan's output ($0...) is no sign.
                initplan = set(re.findall(r"returns \(?(\$\d+)", body))
                bound = {p for line in body.splitlines() if re.search(r"(Cond|Filter): ", line) for p in re.findall(r"\$\d+", line)}
                generic = "generic plan" if bound - initplan else "custom plan"
                print(f"      {query[:110]}{'...' if len(query) > 110 else ''}  ({duration} ms, {generic})")
                for line in body.splitlines():
                    if re.search(r"(Scan|Sort|Limit|Aggregate|Nested Loop|Join|Result|SubPlan|InitPlan).*actual", line):
                        print("        " + re.sub(r"\(cost=[^)]*\) ", "", line.strip()))
    sys.exit(0)
with open(out, "a") as f:
    for label, path in routes:
        for _ in range(20):
            get(path)
        deltas = []
        for _ in range(5):
            before = commands(); get(path); deltas.append(int(commands() - before))
        times = sorted(get(path)[0] for _ in range(runs))
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
        items = json.loads(get(path)[1]).get("items")
        f.write(json.dumps({"size": size, "route": label, "p50": p50, "p95": p95, "commands": min(deltas), "items": len(items) if items is not None else None}) + "\n")
        print(f"   {label:<55} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  commands {min(deltas)}  items {len(items) if items is not None else '-'}")
EOF
  }

  rm -f "$DATA/lists"
  echo "== Large: 1 000 users"
  # 100 users first: the statistics the next batches' triggers are planned with then show events spread over many
  # strategies (those of the generation users alone would make a plan that reads every event for each user).
  start=$(date +%s); seed_users 1 100; seed_users 101 1000; echo "   seeded in $(( $(date +%s) - start )) s: $(totals)"
  echo "   load: $(uptime | sed 's/.*load average: //')"
  list_routes "$(totals)"
  echo "== Large: 10 000 users"
  start=$(date +%s); seed_users 1001 10000; echo "   seeded in $(( $(date +%s) - start )) s: $(totals)"
  echo "   load: $(uptime | sed 's/.*load average: //')"
  list_routes "$(totals)"

  echo "== Plans at 10 000 users (auto_explain: EXPLAIN ANALYZE, BUFFERS of what the API sent; all of it in $DATA/lists.plans.txt)"
  "${PSQL[@]}" <<'SQL'
ALTER DATABASE content_planning SET session_preload_libraries = 'auto_explain';
ALTER DATABASE content_planning SET auto_explain.log_min_duration = 0;
ALTER DATABASE content_planning SET auto_explain.log_analyze = on;
ALTER DATABASE content_planning SET auto_explain.log_buffers = on;
SQL
  stop_api; start_api
  list_routes plans "$DATA/pg/server.log"
  # The write path's bound (migrations 0008/0012): every source or event write of a user sums that user's stored bytes.
  echo "   user_stored_bytes('big-00500'), the sum every write of the user runs in its trigger"
  "${PSQL[@]}" -c "EXPLAIN (ANALYZE, BUFFERS) $("${PSQL[@]}" -tAc "SELECT replace(prosrc, 'uid', quote_literal('big-00500')) FROM pg_proc WHERE proname = 'user_stored_bytes'")" \
    | tee "$DATA/user_stored_bytes.plan.txt" | grep -E 'Scan|Nested Loop|Hash Join|Execution Time' | sed 's/(cost=[^)]*) //; s/^/      /'
  "${PSQL[@]}" -c 'ALTER DATABASE content_planning RESET ALL'

  python3 - "$DATA/lists" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sizes = list(dict.fromkeys(r["size"] for r in rows))
print()
print("| route (user big-00500: 2 strategies, 2 calendars of 50 events) | " + " | ".join(f"{s}: p50 / p95 ms" for s in sizes) + " | database commands | items |")
print("|---|" + "---:|" * len(sizes) + "---:|---:|")
for route in dict.fromkeys(r["route"] for r in rows):
    cells = []
    for s in sizes:
        r = next((r for r in rows if r["route"] == route and r["size"] == s), None)
        cells.append(f"{r['p50']:.2f} / {r['p95']:.2f}" if r else "")
    last = [r for r in rows if r["route"] == route][-1]
    print(f"| `{route}` | " + " | ".join(cells) + f" | {last['commands']} | {last['items'] if last['items'] is not None else '-'} |")
EOF
fi
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1); server times from Server-Timing"
