#!/usr/bin/env bash
# Issue 19's closing figures, measured over HTTP on two API nodes (Release, production settings, Auth__Mode=none) that
# share one PostgreSQL and one Redis (its own, data in .local/measure-cache):
#   1. the Redis spans in a real trace: a cold read on A, the same read on B (from Redis), a write on A; each request's
#      span tree from GET /diagnostics/traces (OTEL_TRACES_SAMPLER=always_on);
#   2. Redis commands per cold read and per write (INFO commandstats after CONFIG RESETSTAT), locker on and off;
#   3. factory runs for 64 concurrent cold reads across the two nodes (32 each, one curl --parallel), locker on and off,
#      ROUNDS rounds of fresh users, from the nodes' cache-stats counters;
#   4. convergence after a Redis restart: Redis killed, down OUTAGE s, restarted; the moment it answers PING, A activates
#      the user's other strategy and B is polled every 20 ms until it answers the new one (PostgreSQL NOTIFY off on B,
#      so only Redis carries the change; then on, as deployed);
#   5. console lines per 100 cached reads at the shipped log settings.
#   scripts/measure-cache.sh
# Ports: PG_PORT (55570), REDIS_PORT (56570), API ports A_PORT (56571), B_PORT (56572). ROUNDS (5), OUTAGE (3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

PG_PORT=${PG_PORT:-55570} REDIS_PORT=${REDIS_PORT:-56570} A_PORT=${A_PORT:-56571} B_PORT=${B_PORT:-56572}
ROUNDS=${ROUNDS:-5} OUTAGE=${OUTAGE:-3}
DATA=$ROOT/.local/measure-cache
KEY=measure-admin-key-0123456789
start_bench_servers "$DATA" "$PG_PORT" "$REDIS_PORT" content_planning_cache jq python3
export Admin__ApiKey=$KEY OTEL_TRACES_SAMPLER=always_on
A=http://127.0.0.1:$A_PORT B=http://127.0.0.1:$B_PORT
P=/api/content-planning
REDIS=(redis-cli -h 127.0.0.1 -p "$REDIS_PORT")

stop_nodes() { stop_bench_pids; }
# start_node NAME PORT [ENV=VALUE ...]: waits until ready; its console goes to $DATA/NAME.log.
start_node() {
  local name=$1 port=$2; shift 2
  start_bench_api "$name" "http://127.0.0.1:$port" Cache__NodeId="$name" "$@"
}
# warm: one cold and one cached read of a throw-away user on both nodes, so a node's first-use costs (JIT, FusionCache
# reading its clear markers once) are not counted below.
warm() {
  local user="warm-$RANDOM" node
  strategy "$user" >/dev/null
  for node in "$A" "$B"; do
    active_on "$node" "$user" >/dev/null; active_on "$node" "$user" >/dev/null
    curl -sf "$node$P/calendar-generation/comprehensive-user-data?user_id=$user" -o /dev/null
  done
}
# strategy USER: creates a strategy; prints its id.
strategy() { curl -sf -H 'Content-Type: application/json' -d "{\"user_id\": \"$1\", \"name\": \"Plan $RANDOM\"}" "$A$P/strategies" | jq -r .id; }
activate() { curl -sf -X POST "$A$P/strategies/$1/activate" -o /dev/null; }
active_on() { curl -sf "$1$P/users/$2/active-strategy"; }
factory_runs() { curl -sf -H "X-Admin-Key: $KEY" "$1$P/calendar-generation/cache/stats" | jq .factory_executions; }
# commands ACTION...: runs ACTION and prints the Redis commands it caused, keep-alives left out.
commands() {
  "${REDIS[@]}" config resetstat >/dev/null
  "$@" >/dev/null
  sleep 1
  "${REDIS[@]}" info commandstats | tr -d '\r' | grep '^cmdstat_' | grep -Ev 'cmdstat_(ping|echo|info|config|cluster|client|subscribe|unsubscribe|psubscribe|hello|select)[:|]' |
    sed 's/cmdstat_\([^:]*\):calls=\([0-9]*\).*/\1 \2/' | awk '{ total += $2; list = list sep $1 " " $2; sep = ", " } END { printf "%d (%s)\n", total, list }'
}

echo "== 1. Redis spans in a real trace"
start_node measure-a "$A_PORT"
start_node measure-b "$B_PORT"
s1=$(strategy trace-user); activate "$s1"
echo "cold read on A: source $(active_on "$A" trace-user | jq -r .cache_info.source)"
echo "same read on B: source $(active_on "$B" trace-user | jq -r .cache_info.source)"
s2=$(strategy trace-user)
echo "write on A (POST /strategies for the user: evicts the user's tag on every node)"
# The Redis instrumentation turns profiled commands into spans when it drains its session (every 10 s by default).
sleep 12
for node in "A $A" "B $B"; do
  set -- $node
  curl -sf -H "X-Admin-Key: $KEY" "$2$P/diagnostics/traces?limit=50" >"$DATA/traces-$1.json"
done
python3 - "$DATA/traces-A.json" "$DATA/traces-B.json" <<'PY'
import json, sys
wanted = {("A", "GET", "/api/content-planning/users/trace-user/active-strategy"), ("B", "GET", "/api/content-planning/users/trace-user/active-strategy"),
          ("A", "POST", "/api/content-planning/strategies")}
for node, path in zip("AB", sys.argv[1:]):
    for trace in reversed(json.load(open(path))):
        spans = trace["spans"]
        root = next((s for s in spans if s["source"] == "Microsoft.AspNetCore"), None)
        if root is None:
            continue
        key = (node, root["attributes"].get("http.request.method"), root["attributes"].get("url.path"))
        if key not in wanted:
            continue
        wanted.discard(key)
        by_parent = {}
        for s in spans:
            by_parent.setdefault(s.get("parent_span_id"), []).append(s)
        ids = {s["span_id"] for s in spans}
        redis = [s for s in spans if s["source"].startswith("OpenTelemetry.Instrumentation.StackExchangeRedis")]
        print(f"-- node {node}: {key[1]} {key[2]}: {len(spans)} spans, {len(redis)} Redis")
        def show(span, depth):
            extra = span["attributes"].get("db.statement") or span["attributes"].get("db.query.text") or ""
            print(f"   {'  ' * depth}{span['source']}: {span['name']} {extra} ({span['duration_ms']:.2f} ms)")
            for child in sorted(by_parent.get(span["span_id"], []), key=lambda c: c["start_time"]):
                show(child, depth + 1)
        for top in [s for s in spans if s.get("parent_span_id") not in ids]:
            show(top, 0)
for node, method, path in sorted(wanted):
    print(f"-- node {node}: no trace of {method} {path}")
PY

echo
echo "== 2. Redis commands per cold read and per write (two nodes, B holds the user's answer in L1)"
commands_row() {
  local label=$1 user=$2 id other
  warm
  id=$(strategy "$user"); other=$(strategy "$user"); activate "$id"
  sleep 0.5
  echo "| $label | cold read of the active strategy on A (L1 and L2 miss) | $(commands active_on "$A" "$user") |"
  echo "| $label | the same read on B (L1 miss, L2 hit) | $(commands active_on "$B" "$user") |"
  echo "| $label | write on A (activate another strategy), B holding the answer | $(commands activate "$other") |"
}
echo "| locker | what | Redis commands (by command) |"
echo "|---|---|---|"
commands_row "on (default)" cmd-on
stop_nodes
start_node measure-a "$A_PORT" Cache__DistributedLocker__Enabled=false
start_node measure-b "$B_PORT" Cache__DistributedLocker__Enabled=false
commands_row off cmd-off

echo
echo "== 3. Factory runs for 64 concurrent cold reads across two nodes (32 each), $ROUNDS rounds"
burst() {
  local label=$1 round user before after urls=()
  local runs=()
  warm
  for round in $(seq 0 "$ROUNDS"); do
    user="burst-$label-$round"
    strategy "$user" >/dev/null
    sleep 0.5
    before=$(( $(factory_runs "$A") + $(factory_runs "$B") ))
    urls=()
    for i in $(seq 1 32); do urls+=("$A$P/calendar-generation/comprehensive-user-data?user_id=$user" "$B$P/calendar-generation/comprehensive-user-data?user_id=$user"); done
    curl -sf --no-progress-meter --parallel --parallel-immediate --parallel-max 64 -w '%{time_total}\n' \
      $(printf -- '-o /dev/null %s ' "${urls[@]}") >"$DATA/burst-$label-$round.times"
    after=$(( $(factory_runs "$A") + $(factory_runs "$B") ))
    # Round 0 warms the burst path (the first 64 concurrent requests a node serves) and is not counted.
    if [ "$round" -gt 0 ]; then runs+=($((after - before))); else rm "$DATA/burst-$label-0.times"; fi
  done
  sort -n "$DATA"/burst-"$label"-*.times | awk -v label="$label" -v runs="${runs[*]}" '{ t[NR] = $1 } END {
    printf "| %s | %s | %.0f / %.0f |\n", label, runs, 1000 * t[int(NR * 0.5)], 1000 * t[NR] }'
}
echo "| locker | factory runs per round (64 reads) | read ms median / max |"
echo "|---|---|---|"
burst off
stop_nodes
start_node measure-a "$A_PORT"
start_node measure-b "$B_PORT"
burst on

echo
echo "== 4. Convergence after a Redis restart (down ${OUTAGE} s)"
converge() {
  local label=$1 user=$2 round s_old s_new want t0 seen
  s_old=$(strategy "$user"); activate "$s_old"; s_new=$(strategy "$user")
  local times=()
  warm
  for round in $(seq 1 "$ROUNDS"); do
    want=$s_new
    active_on "$A" "$user" >/dev/null; active_on "$B" "$user" >/dev/null
    stop_redis "$REDIS_PORT"
    sleep "$OUTAGE"
    start_redis "$DATA/redis" "$REDIS_PORT"
    t0=$(date +%s.%N)
    activate "$want"
    for _ in $(seq 1 1500); do
      seen=$(active_on "$B" "$user" | jq -r .strategy.id)
      [ "$seen" = "$want" ] && break
      sleep 0.02
    done
    [ "$seen" = "$want" ] || { times+=("never(30s)"); continue; }
    times+=("$(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.2f')")
    s_new=$s_old s_old=$want
    sleep 3
  done
  echo "| $label | ${times[*]} | $(printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { printf "%s / %s", t[int((NR + 1) / 2)], t[NR] }') |"
}
echo "| B hears writes through | seconds from Redis answering again to B answering A's write, one per restart | median / max |"
echo "|---|---|---|"
stop_nodes
start_node measure-a "$A_PORT"
start_node measure-b "$B_PORT" CacheCoherence__Enabled=false
converge "Redis only (B's PostgreSQL listener off)" conv-redis
stop_nodes
start_node measure-a "$A_PORT"
start_node measure-b "$B_PORT"
converge "Redis and PostgreSQL NOTIFY (as deployed)" conv-both

echo
echo "== 5. Console lines per 100 cached reads (shipped log settings)"
warm
user=log-user; strategy "$user" >/dev/null
active_on "$A" "$user" >/dev/null
curl -sf "$A$P/calendar-generation/comprehensive-user-data?user_id=$user" -o /dev/null
sleep 1
lines=$(wc -l <"$DATA/measure-a.log") bytes=$(wc -c <"$DATA/measure-a.log")
for _ in $(seq 1 50); do
  active_on "$A" "$user" >/dev/null
  curl -sf "$A$P/calendar-generation/comprehensive-user-data?user_id=$user" -o /dev/null
done
sleep 1
echo "100 cached reads on A (50 active strategy, 50 comprehensive data, L1 hits): $(( $(wc -l <"$DATA/measure-a.log") - lines )) console lines, $(( $(wc -c <"$DATA/measure-a.log") - bytes )) bytes"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC'), Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
