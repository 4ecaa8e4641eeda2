#!/usr/bin/env bash
# Starts everything on this machine: installs PostgreSQL/Redis if missing, starts them on 127.0.0.1:55432/56379
# (data in .local/run), migrates, loads the demo data and runs the API on http://127.0.0.1:5080.
#   scripts/run.sh            start; safe to run again: what already runs (servers, the API) is reported and left
#                             alone, only what is down is started
#   scripts/run.sh node PORT  another API node on http://127.0.0.1:PORT with the same local settings (PostgreSQL,
#                             Redis, signing key, admin key): start scripts/run.sh first
#   scripts/run.sh stop       stop the PostgreSQL and Redis started by this script
# Knobs: RUN_PG_PORT, RUN_REDIS_PORT, API_URL, RUN_DATA (default .local/run), RUN_BUILD=0 (run the binaries as built).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

MODE=${1:-start}
PG_PORT=${RUN_PG_PORT:-55432}
REDIS_PORT=${RUN_REDIS_PORT:-56379}
API_URL=${API_URL:-http://127.0.0.1:5080}
DATA=${RUN_DATA:-$ROOT/.local/run}
API_DLL=$ROOT/src/ContentPlanning.Api/bin/Release/net10.0/ContentPlanning.Api.dll
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

case "$MODE" in
  stop)
    stop_redis "$REDIS_PORT"
    stop_postgres "$DATA/pg"
    echo "Stopped PostgreSQL (:$PG_PORT) and Redis (:$REDIS_PORT)."
    exit 0 ;;
  node)
    [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "usage: scripts/run.sh node PORT   (e.g. scripts/run.sh node 5081)" >&2; exit 2; }
    API_URL=http://127.0.0.1:$2 ;;
  start) ;;
  *) echo "usage: scripts/run.sh [start | node PORT | stop]" >&2; exit 2 ;;
esac

api_answers() { curl -sf -o /dev/null -m 2 "$1/health/live"; }
pg_up() { command -v psql >/dev/null && psql -h 127.0.0.1 -p "$PG_PORT" -U app -d postgres -tAc 'select 1' >/dev/null 2>&1; }

# PostgreSQL and Redis: those already running are reused, the others started.
start_servers() {
  if pg_up; then echo "PostgreSQL already runs on :$PG_PORT (reused)."; fi
  start_postgres "$DATA/pg" "$PG_PORT"
  ensure_database "$PG_PORT" content_planning
  if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then echo "Redis already runs on :$REDIS_PORT (reused)."; fi
  # A bounded Redis that evicts the least recently used key when full, as production should run it (README).
  REDIS_MAXMEMORY=${REDIS_MAXMEMORY:-256mb} REDIS_MAXMEMORY_POLICY=${REDIS_MAXMEMORY_POLICY:-allkeys-lru} \
    start_redis "$DATA/redis" "$REDIS_PORT"
}

if api_answers "$API_URL"; then
  # The API is left alone; servers stopped under it (scripts/run.sh stop) are started again.
  if [ "$MODE" = start ]; then start_servers; fi
  echo "An API already answers at $API_URL: left alone (nothing rebuilt, no token re-minted)."
  echo "  Its settings and tokens: . $DATA/auth.env; . $DATA/tokens.env   Another node: scripts/run.sh node 5081"
  exit 0
fi

mkdir -p "$DATA"
if [ "$MODE" = start ]; then
  ensure_packages
  start_servers
elif [ ! -f "$DATA/auth.env" ] || ! pg_up; then
  echo "Start the first node with scripts/run.sh (it starts PostgreSQL and Redis and writes $DATA/auth.env)." >&2
  exit 1
fi

# A stable admin key per checkout, kept beside the data; Admin__ApiKey in the environment wins.
if [ -z "${Admin__ApiKey:-}" ]; then
  [ -f "$DATA/admin-key" ] || head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$DATA/admin-key"
  Admin__ApiKey=$(cat "$DATA/admin-key")
fi
export Admin__ApiKey

# Bearer tokens: a local HS256 signing key per checkout, kept beside the admin key (Auth__* in the environment wins;
# set Auth__Authority + Auth__Audience to use a real OIDC provider, or Auth__Mode=none behind a trusted gateway).
if [ -z "${Auth__Authority:-}" ] && [ "${Auth__Mode:-jwt}" = "jwt" ]; then
  if [ -z "${Auth__SigningKey:-}" ]; then
    [ -f "$DATA/signing-key" ] || head -c 32 /dev/urandom | base64 > "$DATA/signing-key"
    Auth__SigningKey=$(cat "$DATA/signing-key")
  fi
  export Auth__SigningKey
  export Auth__Issuer=${Auth__Issuer:-content-planning-local}
fi
export Auth__Audience=${Auth__Audience:-content-planning-api}
export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=app;Database=content_planning"
export ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT"
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}

# Every setting this script gives the API, for another node, a token, or a tool run by hand: . .local/run/auth.env
{
  for name in Admin__ApiKey Auth__Mode Auth__Authority Auth__SigningKey Auth__Issuer Auth__Audience \
              ConnectionStrings__Postgres ConnectionStrings__Redis ASPNETCORE_ENVIRONMENT; do
    [ -n "${!name:-}" ] && printf 'export %s=%q\n' "$name" "${!name}"
  done
} > "$DATA/auth.env"

if [ "$MODE" = start ]; then
  if [ "${RUN_BUILD:-1}" != 0 ]; then
    echo "== Building"
    dotnet build src/ContentPlanning.Api -c Release -nologo -v quiet -clp:ErrorsOnly
  fi
  echo "== Migrating and loading demo data"
  dotnet "$API_DLL" seed
elif [ ! -f "$API_DLL" ]; then
  dotnet build src/ContentPlanning.Api -c Release -nologo -v quiet -clp:ErrorsOnly
fi

TOKENS=""
if [ -n "${Auth__SigningKey:-}" ] && [ "${Auth__Mode:-jwt}" = "jwt" ]; then
  # Minted by the API's own command with the key above (12 hours), again only when missing or older than 11 hours.
  if [ ! -s "$DATA/tokens.env" ] || [ -n "$(find "$DATA/tokens.env" -mmin +660)" ]; then
    ALICE_TOKEN=$(dotnet "$API_DLL" token demo-alice user 12)
    SERVICE_TOKEN=$(dotnet "$API_DLL" token run-sh-service service 12)
    printf 'export TOKEN=%s\nexport SERVICE_TOKEN=%s\n' "$ALICE_TOKEN" "$SERVICE_TOKEN" > "$DATA/tokens.env"
  fi
  TOKENS="
  Tokens (12 h): . $DATA/tokens.env
    TOKEN          demo-alice, an end user (read+write on her own data)
    SERVICE_TOKEN  a service (read+write for any user_id)
    More:  . $DATA/auth.env; dotnet $API_DLL token SUBJECT user|service [HOURS]"
fi

cat <<TXT

  API        $API_URL/api/content-planning
  OpenAPI UI $API_URL/swagger   (document: $API_URL/openapi/v1.json)
  Health     $API_URL/health/ready
  Traces     $API_URL/api/content-planning/diagnostics/traces  (header X-Admin-Key)
  Admin key  $Admin__ApiKey
  Auth       ${Auth__Mode:-jwt} (issuer ${Auth__Authority:-${Auth__Issuer:-}}, audience $Auth__Audience)$TOKENS
  Settings   . $DATA/auth.env   (another node: scripts/run.sh node 5081)
  PostgreSQL 127.0.0.1:$PG_PORT  Redis 127.0.0.1:$REDIS_PORT  (stop them: scripts/run.sh stop)

  Ctrl-C stops the API.
TXT
# scripts/cluster.sh prepares through this script (servers, keys, build, migrations, demo data) and starts its own nodes.
[ -n "${RUN_ONLY_PREPARE:-}" ] && exit 0
cd src/ContentPlanning.Api
exec dotnet "$API_DLL" --urls "$API_URL"
