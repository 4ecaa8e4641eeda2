#!/usr/bin/env bash
# N API nodes (default 3) behind Debian's nginx on loopback, over one PostgreSQL and one Redis (those of scripts/run.sh).
#   scripts/cluster.sh [N]      start (nodes on 127.0.0.1:5181.., nginx on 127.0.0.1:5080; logs in .local/cluster)
#   scripts/cluster.sh stop     stop the nodes and nginx (PostgreSQL and Redis stay: scripts/run.sh stop)
# Settings in the environment reach every node (README, "Configuration"); CLUSTER_PORT, CLUSTER_NODE_BASE_PORT and
# CLUSTER_STREAM_READ_TIMEOUT (default 60s, above CalendarJobs__StreamHeartbeat) change the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

NODES=${1:-3}
LB_PORT=${CLUSTER_PORT:-5080}
BASE_PORT=${CLUSTER_NODE_BASE_PORT:-5181}
READ_TIMEOUT=${CLUSTER_STREAM_READ_TIMEOUT:-60s}
DATA=$ROOT/.local/cluster
PG_PORT=${RUN_PG_PORT:-55432}
REDIS_PORT=${RUN_REDIS_PORT:-56379}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

stop_all() {
  local pid
  if [ -f "$DATA/nginx/nginx.pid" ]; then
    nginx -p "$DATA/nginx" -c "$DATA/nginx/nginx.conf" -s quit 2>/dev/null || true
  fi
  for pidfile in "$DATA"/node-*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    # SIGTERM: each node drains (readiness 503, streams end, jobs handed back) within Shutdown__Timeout.
    kill -TERM "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = "stop" ]; then
  stop_all
  echo "Stopped the cluster's nodes and nginx."
  exit 0
fi

ensure_packages nginx=nginx-light curl
mkdir -p "$DATA/nginx"
stop_all

# PostgreSQL, Redis, keys, the build, migrations and demo data: exactly as for one node.
RUN_ONLY_PREPARE=1 scripts/run.sh >/dev/null
. "$ROOT/.local/run/tokens.env" 2>/dev/null || true
export Admin__ApiKey=${Admin__ApiKey:-$(cat "$ROOT/.local/run/admin-key")}
if [ -z "${Auth__Authority:-}" ] && [ "${Auth__Mode:-jwt}" = "jwt" ]; then
  export Auth__SigningKey=${Auth__SigningKey:-$(cat "$ROOT/.local/run/signing-key")}
  export Auth__Issuer=${Auth__Issuer:-content-planning-local}
fi
export Auth__Audience=${Auth__Audience:-content-planning-api}
export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=app;Database=content_planning"
export ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT"
export ForwardedHeaders__Enabled=true ForwardedHeaders__KnownProxies=127.0.0.1
# The schema is migrated once above; nodes do not race to migrate it.
export Database__MigrateOnStart=false
API_DLL=$ROOT/src/ContentPlanning.Api/bin/Release/net10.0/ContentPlanning.Api.dll

servers=""
for i in $(seq 1 "$NODES"); do
  port=$((BASE_PORT + i - 1))
  ASPNETCORE_URLS="http://127.0.0.1:$port" Cache__NodeId="node-$i" \
    nohup dotnet "$API_DLL" >"$DATA/node-$i.log" 2>&1 &
  echo $! >"$DATA/node-$i.pid"
  servers="${servers}server 127.0.0.1:$port max_fails=1 fail_timeout=5s; "
done

sed -e "s|@PREFIX@|$DATA/nginx|g" -e "s|@LISTEN@|127.0.0.1:$LB_PORT|g" \
    -e "s|@UPSTREAM_SERVERS@|$servers|g" -e "s|@STREAM_READ_TIMEOUT@|$READ_TIMEOUT|g" \
    deploy/nginx/content-planning.conf.template >"$DATA/nginx/nginx.conf"
nginx -t -q -p "$DATA/nginx" -c "$DATA/nginx/nginx.conf"

for i in $(seq 1 "$NODES"); do
  port=$((BASE_PORT + i - 1))
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
    kill -0 "$(cat "$DATA/node-$i.pid")" 2>/dev/null || { echo "node-$i exited (see $DATA/node-$i.log)" >&2; exit 1; }
    sleep 0.5
  done
done
nginx -p "$DATA/nginx" -c "$DATA/nginx/nginx.conf"

cat <<TXT

  $NODES nodes behind nginx:  http://127.0.0.1:$LB_PORT/api/content-planning   (nodes: 127.0.0.1:$BASE_PORT..$((BASE_PORT + NODES - 1)))
  Logs:   $DATA/node-N.log, $DATA/nginx/access.log (upstream= shows the node that answered)
  Tokens: . $ROOT/.local/run/tokens.env
  Stop:   scripts/cluster.sh stop
TXT
