#!/usr/bin/env bash
# HTTP benchmark (issues 16, 22): its own PostgreSQL, Redis and API (Release, production logging) on 127.0.0.1, N seeded
# users, wrk with the same threads and connections for every case, interleaved rounds, medians; prints one table with
# req/s and the serving process's CPU µs per request (/proc/PID/stat), each against a separate minimal ASP.NET Core app
# (tests/ContentPlanning.MinimalApp) answering the same bytes.
#   scripts/bench-http.sh [--users N] [--rounds R] [--duration SECONDS] [--threads T] [--connections C] [--cases a,b,...]
#   scripts/bench-http.sh --profile CASE [--duration S]   (one run of CASE under dotnet-trace: the top methods, exclusive and inclusive)
#   scripts/bench-http.sh --perf CASE[,CASE...] [--duration S]   (each case once under Linux perf, on-CPU samples only: where
#     a request's CPU goes, by component, in µs per request; installs linux-perf)
#   scripts/bench-http.sh --simulate [--users N] [--duration SECONDS]   (two nodes, Zipf reads, writes; default 180 s per run:
#     saturated, then open loop at SIM_LOAD_PERCENT (default 50) % of the saturated throughput, then forced to the database)
# Ports: PostgreSQL 56481, Redis 56482, API 56483, the minimal app 56484, the API with bearer tokens 56485, the second
# node of --simulate 56493 (BENCH_PG_PORT, BENCH_REDIS_PORT, BENCH_API_PORT, BENCH_MINIMAL_PORT, BENCH_BEARER_PORT,
# BENCH_API2_PORT). Data in .local/bench-http.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

USERS=10000 ROUNDS=3 DURATION= THREADS=2 CONNECTIONS=32 SIMULATE=false ONLY= PROFILE= PERF=
while [ $# -gt 0 ]; do
  case "$1" in
    --simulate) SIMULATE=true; shift ;;
    --users) USERS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --cases) ONLY=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --perf) PERF=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
DURATION=${DURATION:-$($SIMULATE && echo 180 || echo 5)}
[ "$USERS" -ge 1000 ] || { echo "--users must be at least 1000 (the round-robin cases use 1000 users)" >&2; exit 2; }

PG_PORT=${BENCH_PG_PORT:-56481} REDIS_PORT=${BENCH_REDIS_PORT:-56482} API_PORT=${BENCH_API_PORT:-56483}
DATA=$ROOT/.local/bench-http
API=http://127.0.0.1:$API_PORT
MINIMAL=http://127.0.0.1:${BENCH_MINIMAL_PORT:-$((API_PORT + 1))}
BEARER=http://127.0.0.1:${BENCH_BEARER_PORT:-$((API_PORT + 2))}
B=$API/api/content-planning
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# --perf: the runtime writes /tmp/perf-PID.map so perf can name JIT-compiled frames (single-mapped code, for the same reason).
[ -n "$PERF" ] && export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0

ensure_packages
command -v wrk >/dev/null 2>&1 || { echo "Installing wrk"; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null \
  || { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }; }

API_PID= API2_PID= MINIMAL_PID= BEARER_PID=
cleanup() {
  [ -n "$MINIMAL_PID" ] && kill "$MINIMAL_PID" 2>/dev/null && wait "$MINIMAL_PID" 2>/dev/null || true
  [ -n "$BEARER_PID" ] && kill "$BEARER_PID" 2>/dev/null && wait "$BEARER_PID" 2>/dev/null || true
  [ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null || true
  [ -n "$API2_PID" ] && kill "$API2_PID" 2>/dev/null && wait "$API2_PID" 2>/dev/null || true
  stop_redis "$REDIS_PORT"
  stop_postgres "$DATA/pg"
}
trap cleanup EXIT
stop_redis "$REDIS_PORT"; stop_postgres "$DATA/pg"; rm -rf "$DATA"; mkdir -p "$DATA/results"
PG_FSYNC=off start_postgres "$DATA/pg" "$PG_PORT"
ensure_database "$PG_PORT" content_planning
start_redis "$DATA/redis" "$REDIS_PORT"

export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=app;Database=content_planning;Maximum Pool Size=64"
export ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT"
export ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning Benchmark__Enabled=true
export Admin__ApiKey=bench-admin-key-0123456789 Auth__Mode=none
# Throughput, not limits, is measured here: one client (wrk) would otherwise hit the per-caller limits at once.
export RateLimiting__CalendarGenerationPerMinute=1000000 RateLimiting__CacheWarmPerMinute=1000000
# Production tracing samples: 1 % of root requests by default (OTEL_TRACES_SAMPLER / _ARG override it, e.g. always_on).
export OTEL_TRACES_SAMPLER=${OTEL_TRACES_SAMPLER:-parentbased_traceidratio} OTEL_TRACES_SAMPLER_ARG=${OTEL_TRACES_SAMPLER_ARG:-0.01}

echo "== Building (Release)"
dotnet build src/ContentPlanning.Api -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build tests/ContentPlanning.MinimalApp -c Release -nologo -v quiet -clp:ErrorsOnly
MINIMAL_DLL=$ROOT/tests/ContentPlanning.MinimalApp/bin/Release/net10.0/ContentPlanning.MinimalApp.dll
# BENCH_API_DLL: measure another build of the API (e.g. an older commit's, for a before/after table) with this script.
API_DLL=${BENCH_API_DLL:-$ROOT/src/ContentPlanning.Api/bin/Release/net10.0/ContentPlanning.Api.dll}
API_DIR=$(dirname "$API_DLL")
dotnet "$API_DLL" migrate >/dev/null

echo "== Seeding $USERS users"
start=$(date +%s.%N)
psql -q -h 127.0.0.1 -p "$PG_PORT" -U app -d content_planning -v users="$USERS" -f scripts/bench-http/seed.sql
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "   seeded in %.1f s: ", b - a }'
psql -tA -h 127.0.0.1 -p "$PG_PORT" -U app -d content_planning -c \
  "SELECT (SELECT count(*) FROM user_profiles) || ' profiles, ' || (SELECT count(*) FROM content_strategies) || ' strategies, ' || (SELECT count(*) FROM content_gap_analyses) || ' gap analyses, ' || (SELECT count(*) FROM content_recommendations) || ' recommendations, ' || (SELECT count(*) FROM content_analytics) || ' analytics rows'"

start_api() {
  (cd "$API_DIR" && exec dotnet "$API_DLL" --urls "$API") >"$DATA/api.log" 2>&1 &
  API_PID=$!
  for _ in $(seq 1 100); do curl -sf "$API/health/ready" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "The API did not become ready (see $DATA/api.log)" >&2; exit 1
}
echo "== Starting the API on $API"
start_api

# Database commands the server at URL has run so far: the Npgsql operation-duration histogram's count, from /metrics.
db_commands() {
  curl -s "${1:-$API}/metrics" | awk '/^db_client_operation_duration_seconds_count/ { s += $NF } END { printf "%d\n", s }'
}

# CPU time (user + system) PID has used so far, in µs (/proc/PID/stat fields 14 and 15, in clock ticks).
TICK_US=$((1000000 / $(getconf CLK_TCK)))
cpu_us() { awk -v t="$TICK_US" '{ print ($14 + $15) * t }' "/proc/$1/stat"; }

# run_wrk NAME USERS PATH [METHOD BODY MAX FIRST]: one wrk run against $TARGET (default the API, served by $TARGET_PID) with
# $TOKEN as bearer token if set; appends "req/s p50_ms p99_ms errors db_per_1000 cpu_us_per_request" to results/NAME.
run_wrk() {
  local name=$1 users=$2 path=$3 method=${4:-GET} body=${5:-} max=${6:-0} first=${7:-1} before after line cpu0 cpu1 t0 t1
  local target=${TARGET:-$API} pid=${TARGET_PID:-$API_PID} prefix=${TARGET_PREFIX-/api/content-planning}
  before=$(db_commands "$target")
  cpu0=$(cpu_us "$pid") t0=$(date +%s%N)
  line=$(BENCH_PATH="$prefix$path" BENCH_USERS=$users BENCH_METHOD=$method BENCH_BODY=$body BENCH_MAX=$max \
         BENCH_FIRST=$first BENCH_THREADS=$THREADS BENCH_TOKEN=${TOKEN:-} \
         wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency -s scripts/bench-http/round-robin.lua "$target" | grep '^RESULT ')
  cpu1=$(cpu_us "$pid") t1=$(date +%s%N)
  after=$(db_commands "$target")
  # RESULT requests seconds socket-errors non-2xx p50-us p99-us mean-us. A capped pass (max > 0) ends before the duration,
  # but wrk divides by the whole duration: its rate is taken from Little's law instead (connections / mean latency).
  # Columns 6 and 7: the process's CPU per request, as measured and net of its idle rate (IDLE_US_PER_S[pid]) over the run.
  echo "$line" | awk -v b="$before" -v a="$after" -v capped="$max" -v c="$CONNECTIONS" -v cpu="$((cpu1 - cpu0))" \
      -v idle="$(( ${IDLE_US_PER_S[$pid]:-0} * (t1 - t0) / 1000000000 ))" '{
      rate = capped > 0 ? c / ($8 / 1e6) : $2 / $3
      n = $2 > 0 ? $2 : 1
      printf "%.0f %.2f %.2f %d %.1f %.1f %.1f\n", rate, $6 / 1000, $7 / 1000, $4 + $5, (a - b) * 1000 / n, cpu / n, (cpu - idle) / n
    }' >> "$DATA/results/$name"
}

echo "== Preparing: the baseline bytes, warm L1/L2"
curl -sf "$B/calendar-generation/comprehensive-user-data?user_id=bench-1" > "$DATA/typical.json"
curl -sf "$B/users/bench-1/active-strategy" > "$DATA/active.json"
# The API's own baseline route (Benchmark__Enabled), if this build still has it: a second, in-process baseline line.
HAS_INPROC=false
curl -sf -X PUT --data-binary @"$DATA/typical.json" "$B/benchmark/baseline" && HAS_INPROC=true
echo "   typical comprehensive answer: $(wc -c < "$DATA/typical.json") bytes, active strategy: $(wc -c < "$DATA/active.json") bytes"
WARM_MAX=$(( (USERS + THREADS - 1) / THREADS ))
# Every user's comprehensive data into L1 and L2, through the admin warm route (1000 users a call).
start=$(date +%s.%N)
for ((from = 1; from <= USERS; from += 1000)); do
  ids=$(seq "$from" $((from + 999 < USERS ? from + 999 : USERS)) | sed 's/.*/"bench-&"/' | paste -sd,)
  curl -sf -X POST -H "X-Admin-Key: $Admin__ApiKey" -H 'Content-Type: application/json' -d "{\"user_ids\": [$ids]}" \
    "$B/calendar-generation/cache/warm" >/dev/null
done
awk -v a="$start" -v b="$(date +%s.%N)" -v n="$USERS" 'BEGIN { printf "   warmed %d users in %.1f s\n", n, b - a }'
# (A few seconds are enough to warm; --simulate's DURATION is the length of each simulated run.)
DURATION=$($SIMULATE && echo 5 || echo "$DURATION") run_wrk warm-active 1 "/users/bench-1/active-strategy"

if $SIMULATE; then
  API2=http://127.0.0.1:${BENCH_API2_PORT:-$((API_PORT + 10))}
  echo "== Starting a second node on $API2"
  (cd "$API_DIR" && exec dotnet "$API_DLL" --urls "$API2") >"$DATA/api2.log" 2>&1 &
  API2_PID=$!
  for _ in $(seq 1 100); do curl -sf "$API2/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
  echo "== Generating 300 calendars (the calendar reads' targets)"
  for u in $(seq 1 300); do
    curl -sf -o /dev/null -H 'Content-Type: application/json' -d "{\"user_id\": \"bench-$u\", \"calendar_type\": \"monthly\"}" "$B/calendar-generation/generate-calendar"
  done
  ids=$(psql -tA -h 127.0.0.1 -p "$PG_PORT" -U app -d content_planning -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM generated_calendars")
  both_db() { echo $(( $(db_commands) + $(curl -s "$API2/metrics" | awk '/^db_client_operation_duration_seconds_count/ { s += $NF } END { printf "%d\n", s }') )); }
  PSQL_WRITE="psql -q -h 127.0.0.1 -p $PG_PORT -U app -d content_planning"
  simulate() {
    local mode=$1 out=$2 before after
    before=$(both_db)
    python3 scripts/bench-http/simulate.py "${API#http://},${API2#http://}" "$USERS" "$DURATION" "$ids" "$mode" $PSQL_WRITE > "$out"
    after=$(both_db)
    python3 -c "import json,sys; d=json.load(open('$out')); print(round(($after - $before) * 1000 / max(1, d['requests']), 1))"
  }
  echo "== Simulating $DURATION s with the cache (closed loop: saturation), then at ${SIM_LOAD_PERCENT:-50} % of the throughput it reached (open loop), then $DURATION s with every read forced to the database (force_refresh)"
  echo "   load before: $(uptime)"
  cached_db=$(simulate cached "$DATA/simulate-cached.json")
  rate=$(python3 -c "import json; print(round(json.load(open('$DATA/simulate-cached.json'))['throughput'] * ${SIM_LOAD_PERCENT:-50} / 100))")
  echo "   load after the saturated run: $(uptime)"
  SIM_RATE=$rate simulate cached "$DATA/simulate-open.json" >/dev/null
  echo "   load after the open-loop run: $(uptime)"
  forced_db=$(simulate force "$DATA/simulate-force.json")
  python3 - "$DATA/simulate-cached.json" "$DATA/simulate-open.json" "$DATA/simulate-force.json" "$cached_db" "$forced_db" <<'EOF'
import json, sys
cached, opened, forced = (json.load(open(p)) for p in sys.argv[1:4])
cached_db, forced_db = float(sys.argv[4]), float(sys.argv[5])
def table(run, title):
    print()
    print(title)
    print()
    print("| tier | share of reads | server p50 ms | server p95 ms | client p50 ms | client p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for tier, t in run["tiers"].items():
        print(f"| {tier} | {t['share'] * 100:.1f} % | {t['server_p50_ms']} | {t['server_p95_ms']} | {t['p50_ms']} | {t['p95_ms']} |")
    print()
    print(f"requests {run['requests']} in {run['elapsed_s']} s ({run['throughput']} req/s; {run['reads']} reads, {run['writes_api']} API writes, "
          f"{run['writes_sql']} SQL writes), errors {run['errors']}")
    print(f"hit rate (comprehensive data and active strategy): {run['hit_rate'] * 100:.2f} % "
          f"(comprehensive {run['hit_rate_comprehensive'] * 100:.2f} %, active strategy {run['hit_rate_active'] * 100:.2f} %)")
    s, c = run["stale_as_fresh"], run["stale_checked"]
    print(f"stale-as-fresh answers (reads begun after the acknowledged write): after API writes {s['api']} of {c['api']}; "
          f"after SQL writes {s['sql_within_1s']} of {c['sql_within_1s']} within 1 s of the commit, {s['sql_after_1s']} of {c['sql_after_1s']} later")
table(cached, f"Saturation (closed loop, {cached['threads']} client threads):")
table(opened, f"Open loop at {opened['target_rate']} req/s ({opened['threads']} client threads; {opened['late_sends']} sends more than one interval late):")
print()
print(f"database commands per 1000 requests: {cached_db} with the cache, {forced_db} with every read forced to the database: "
      f"reduction {(1 - cached_db / forced_db) * 100 if forced_db else 0:.1f} %")
s = forced["stale_as_fresh"]
print(f"(force run: {forced['requests']} requests, errors {forced['errors']}, stale-as-fresh {s} of {forced['stale_checked']} checked)")
EOF
  echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ { print $2 }') GiB; server times from Server-Timing, client times over loopback"
  exit 0
fi

HAS_CALENDAR=false
# (Read whole first: grep -q closing the pipe early would fail the pipeline under pipefail.)
openapi=$(curl -s "$API/openapi/v1.json")
[[ $openapi == *'/calendar-generation/generate-calendar'* ]] && HAS_CALENDAR=true

echo "== Starting the minimal app on $MINIMAL (the baseline) and the API with bearer tokens on $BEARER"
(exec dotnet "$MINIMAL_DLL" --urls "$MINIMAL" comprehensive="$DATA/typical.json" active="$DATA/active.json") >"$DATA/minimal.log" 2>&1 &
MINIMAL_PID=$!
SIGNING_KEY=$(head -c 32 /dev/urandom | base64)
bearer_env=(Auth__Mode=jwt Auth__SigningKey="$SIGNING_KEY" Auth__Issuer=bench Auth__Audience=content-planning)
TOKEN_USER=$(env "${bearer_env[@]}" dotnet "$API_DLL" token bench-1 user 12)
(cd "$API_DIR" && exec env "${bearer_env[@]}" dotnet "$API_DLL" --urls "$BEARER") >"$DATA/bearer.log" 2>&1 &
BEARER_PID=$!
for url in "$MINIMAL/comprehensive" "$BEARER/health/ready"; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$url" && break; sleep 0.2; done
  curl -sf -o /dev/null "$url" || { echo "$url did not answer (see $DATA/*.log)" >&2; exit 1; }
done
cmp -s <(curl -s "$MINIMAL/comprehensive") "$DATA/typical.json" || { echo "the minimal app answers other bytes" >&2; exit 1; }

CASES=(minimal-comprehensive hot-l1 bearer-hot-l1 minimal-active active-hot bearer-active-hot rr-1000 cold-l2-all force-1000)
$HAS_INPROC && CASES=(inproc-baseline "${CASES[@]}")
$HAS_CALENDAR && CASES+=(generate-monthly get-calendar)
if [ -n "$ONLY" ]; then IFS=, read -r -a CASES <<< "$ONLY"; fi
on_minimal() { TARGET=$MINIMAL TARGET_PID=$MINIMAL_PID TARGET_PREFIX= run_wrk "$@"; }
on_bearer() { TARGET=$BEARER TARGET_PID=$BEARER_PID TOKEN=$TOKEN_USER run_wrk "$@"; }
run_case() {
  case "$1" in
    minimal-comprehensive) on_minimal "$1" 1 "/comprehensive" ;;
    minimal-active) on_minimal "$1" 1 "/active" ;;
    inproc-baseline) run_wrk "$1" 1 "/benchmark/baseline" ;;
    hot-l1) run_wrk "$1" 1 "/calendar-generation/comprehensive-user-data?user_id=bench-1" ;;
    bearer-hot-l1) on_bearer "$1" 1 "/calendar-generation/comprehensive-user-data?user_id=bench-1" ;;
    rr-1000) run_wrk "$1" 1000 "/calendar-generation/comprehensive-user-data?user_id={user}" ;;
    cold-l2-all)
      # L1 emptied by the API's benchmark route; a build without it is restarted instead (which also empties L1).
      curl -sf -X POST "$B/benchmark/clear-memory" || { kill "$API_PID"; wait "$API_PID" 2>/dev/null || true; start_api; }
      run_wrk "$1" "$USERS" "/calendar-generation/comprehensive-user-data?user_id={user}" GET "" "$WARM_MAX" ;;
    force-1000) run_wrk "$1" 1000 "/calendar-generation/comprehensive-user-data?user_id={user}&force_refresh=true" ;;
    active-hot) run_wrk "$1" 1 "/users/bench-1/active-strategy" ;;
    bearer-active-hot) on_bearer "$1" 1 "/users/bench-1/active-strategy" ;;
    generate-monthly) run_wrk "$1" 1000 "/calendar-generation/generate-calendar" POST \
        '{"user_id": "{user}", "calendar_type": "monthly"}' ;;
    get-calendar)
      local lo hi
      read -r lo hi < <(psql -tA -F' ' -h 127.0.0.1 -p "$PG_PORT" -U app -d content_planning -c "SELECT min(id), max(id) FROM generated_calendars")
      run_wrk "$1" $((hi - lo + 1)) "/calendars/{n}" GET "" 0 "$lo" ;;
    *) echo "unknown case: $1" >&2; exit 2 ;;
  esac
}

# The bearer node's L1 warmed for its two hot keys (it shares Redis and PostgreSQL with the first node).
for p in "/calendar-generation/comprehensive-user-data?user_id=bench-1" "/users/bench-1/active-strategy"; do
  curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN_USER" "$BEARER/api/content-planning$p" || { echo "bearer read of $p failed" >&2; exit 1; }
done
# Every process JIT-warmed on its hot routes before the first measured round: tiered compilation recompiles a hot method
# twice (instrumented, then optimized) in the background, which on a busy machine takes tens of seconds; until then a
# process is measured running slower code and its JIT thread (BENCH_WARMUP seconds per route, default 10).
WARMUP=${BENCH_WARMUP:-10}
DURATION=$WARMUP on_minimal warm 1 "/comprehensive"; DURATION=$WARMUP on_minimal warm 1 "/active"
for p in "/calendar-generation/comprehensive-user-data?user_id=bench-1" "/users/bench-1/active-strategy"; do
  DURATION=$WARMUP on_bearer warm 1 "$p"; DURATION=$WARMUP run_wrk warm 1 "$p"
done

if [ -n "$PERF" ]; then
  command -v perf >/dev/null 2>&1 || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
  IFS=, read -r -a perf_cases <<< "$PERF"
  for c in "${perf_cases[@]}"; do
    case "$c" in minimal-*) pid=$MINIMAL_PID ;; bearer-*) pid=$BEARER_PID ;; *) pid=$API_PID ;; esac
    perf record -F 999 -g -p "$pid" -o "$DATA/perf-$c.data" -- sleep "$DURATION" >/dev/null 2>&1 &
    recorder=$!
    run_case "$c"
    wait "$recorder" || true
    us=$(awk '{ print $6 }' "$DATA/results/$c")
    echo "== $c: $(awk '{ print $1 }' "$DATA/results/$c") req/s, $us CPU µs/request (under perf)"
    perf script -i "$DATA/perf-$c.data" 2>/dev/null | python3 scripts/bench-http/perf-categories.py - "$us"
  done
  exit 0
fi

declare -A IDLE_T0 IDLE_A
if [ -n "$PROFILE" ]; then
  # Sampled thread stacks (about 100 Hz per thread) of the process serving the case, while wrk runs it once.
  export PATH="$PATH:$HOME/.dotnet/tools"
  command -v dotnet-trace >/dev/null 2>&1 || dotnet tool install --global dotnet-trace >/dev/null
  case "$PROFILE" in minimal-*) pid=$MINIMAL_PID ;; bearer-*) pid=$BEARER_PID ;; *) pid=$API_PID ;; esac
  trace=$DATA/profile-$PROFILE.nettrace
  dotnet-trace collect -p "$pid" --profile dotnet-sampled-thread-time -o "$trace" --duration "00:00:$(printf %02d $((DURATION + 2)))" >/dev/null &
  tracer=$!
  sleep 1
  run_case "$PROFILE"
  wait "$tracer" || true
  echo "== $PROFILE: $(col() { awk -v c="$2" '{ print $c }' "$DATA/results/$1"; }; col "$PROFILE" 1) req/s, $(awk '{ print $6 }' "$DATA/results/$PROFILE") CPU µs/request; trace $trace"
  dotnet-trace report "$trace" topN -n 60
  dotnet-trace report "$trace" topN -n 100 --inclusive
  exit 0
fi

# What each process burns with no request at all (timers, job polling, metrics), in CPU µs per second over 5 s: the
# table's net column subtracts it, so a slow run does not charge the background to each request.
declare -A IDLE_US_PER_S
for pid in "$API_PID" "$MINIMAL_PID" "$BEARER_PID"; do a=$(cpu_us "$pid"); IDLE_T0[$pid]=$(date +%s%N); IDLE_A[$pid]=$a; done 2>/dev/null || true
sleep 5
for pid in "$API_PID" "$MINIMAL_PID" "$BEARER_PID"; do
  IDLE_US_PER_S[$pid]=$(( ($(cpu_us "$pid") - IDLE_A[$pid]) * 1000000000 / ($(date +%s%N) - IDLE_T0[$pid]) ))
done
echo "   idle CPU: API $((IDLE_US_PER_S[$API_PID] / 1000)) ms/s, minimal app $((IDLE_US_PER_S[$MINIMAL_PID] / 1000)) ms/s, bearer API $((IDLE_US_PER_S[$BEARER_PID] / 1000)) ms/s"

echo "== Measuring: ${#CASES[@]} cases x $ROUNDS rounds, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s each, interleaved"
for round in $(seq 1 "$ROUNDS"); do
  for c in "${CASES[@]}"; do run_case "$c"; done
  echo "   round $round done"
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { [ -f "$DATA/results/$1" ] && awk -v c="$2" '{ print $c }' "$DATA/results/$1" | median || echo 0; }
# Each case against the minimal app answering the same bytes (the active-strategy cases against its answer, the rest
# against the comprehensive one).
baseline_of() { case "$1" in *active*) echo minimal-active ;; *) echo minimal-comprehensive ;; esac; }
describe() {
  case "$1" in
    minimal-comprehensive) echo "minimal app: the comprehensive answer's $(wc -c < "$DATA/typical.json") bytes (baseline)" ;;
    minimal-active) echo "minimal app: the active-strategy answer's $(wc -c < "$DATA/active.json") bytes (baseline)" ;;
    inproc-baseline) echo "the API's own /benchmark/baseline (same bytes, whole pipeline)" ;;
    hot-l1) echo "comprehensive data, one hot user (L1)" ;;
    bearer-hot-l1) echo "comprehensive data, one hot user (L1), bearer token (HS256)" ;;
    rr-1000) echo "comprehensive data, 1 000 users round robin, warm" ;;
    cold-l2-all) echo "comprehensive data, $USERS users, L1 cleared, L2 warm" ;;
    force-1000) echo "comprehensive data, force_refresh, 1 000 users" ;;
    active-hot) echo "active strategy, one hot user (L1)" ;;
    bearer-active-hot) echo "active strategy, one hot user (L1), bearer token (HS256)" ;;
    generate-monthly) echo "generate-calendar monthly, 1 000 users (POST)" ;;
    get-calendar) echo "GET /calendars/{id} over stored calendars" ;;
  esac
}
echo
echo "| case | req/s | x minimal | CPU µs/req | net of idle | x minimal (net) | p50 ms | p99 ms | errors | db commands / 1000 req |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in "${CASES[@]}"; do
  rps=$(col "$c" 1) cpu=$(col "$c" 6) net=$(col "$c" 7) base=$(baseline_of "$c")
  printf '| %s | %.0f | %s | %.1f | %.1f | %s | %s | %s | %s | %s |\n' "$(describe "$c")" "$rps" \
    "$(awk -v a="$rps" -v b="$(col "$base" 1)" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" "$cpu" "$net" \
    "$(awk -v a="$net" -v b="$(col "$base" 7)" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" \
    "$(col "$c" 2)" "$(col "$c" 3)" "$(awk '{ s += $4 } END { print s }' "$DATA/results/$c")" "$(col "$c" 5)"
done
echo
echo "sampler: $OTEL_TRACES_SAMPLER $OTEL_TRACES_SAMPLER_ARG; medians of $ROUNDS interleaved rounds; CPU = the serving process's utime+stime (/proc) / requests; errors summed over rounds; machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ { print $2 }') GiB"
