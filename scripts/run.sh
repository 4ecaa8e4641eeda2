#!/usr/bin/env bash
# Starts everything on this machine: installs PostgreSQL/Redis if missing, starts them on 127.0.0.1:55432/56379
# (data in .local/run), migrates, loads the demo data and runs the API on http://127.0.0.1:5080.
#   scripts/run.sh         start (safe to run again; servers already running are reused)
#   scripts/run.sh stop    stop the PostgreSQL and Redis started by this script
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

PG_PORT=${RUN_PG_PORT:-55432}
REDIS_PORT=${RUN_REDIS_PORT:-56379}
API_URL=${API_URL:-http://127.0.0.1:5080}
DATA=$ROOT/.local/run
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [ "${1:-}" = "stop" ]; then
  stop_redis "$REDIS_PORT"
  stop_postgres "$DATA/pg"
  echo "Stopped PostgreSQL (:$PG_PORT) and Redis (:$REDIS_PORT)."
  exit 0
fi

ensure_packages
start_postgres "$DATA/pg" "$PG_PORT"
ensure_database "$PG_PORT" content_planning
# A bounded Redis that evicts the least recently used key when full, as production should run it (README).
REDIS_MAXMEMORY=${REDIS_MAXMEMORY:-256mb} REDIS_MAXMEMORY_POLICY=${REDIS_MAXMEMORY_POLICY:-allkeys-lru} \
  start_redis "$DATA/redis" "$REDIS_PORT"

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

echo "== Building"
dotnet build src/ContentPlanning.Api -c Release -nologo -v quiet -clp:ErrorsOnly
API_DLL=src/ContentPlanning.Api/bin/Release/net10.0/ContentPlanning.Api.dll

echo "== Migrating and loading demo data"
dotnet "$API_DLL" seed

TOKENS=""
if [ -n "${Auth__SigningKey:-}" ] && [ "${Auth__Mode:-jwt}" = "jwt" ]; then
  # Minted by the API's own command with the key above: 12 hours, demo-alice as an end user, and a service token.
  ALICE_TOKEN=$(dotnet "$API_DLL" token demo-alice user 12 2>/dev/null)
  SERVICE_TOKEN=$(dotnet "$API_DLL" token run-sh-service service 12 2>/dev/null)
  printf 'export TOKEN=%s\nexport SERVICE_TOKEN=%s\n' "$ALICE_TOKEN" "$SERVICE_TOKEN" > "$DATA/tokens.env"
  TOKENS="
  Tokens (12 h; both are in $DATA/tokens.env):
    demo-alice (end user, read+write on her own data):
      export TOKEN=$ALICE_TOKEN
    service (read+write for any user_id):
      export SERVICE_TOKEN=$SERVICE_TOKEN
    One line for a new shell:  . $DATA/tokens.env
    More:  dotnet $API_DLL token SUBJECT user|service [HOURS]   (with the Auth__* variables above)"
fi

cat <<TXT

  API        $API_URL/api/content-planning
  OpenAPI UI $API_URL/swagger   (document: $API_URL/openapi/v1.json)
  Health     $API_URL/health/ready
  Traces     $API_URL/api/content-planning/diagnostics/traces  (header X-Admin-Key)
  Admin key  $Admin__ApiKey
  Auth       ${Auth__Mode:-jwt} (issuer ${Auth__Authority:-${Auth__Issuer:-}}, audience $Auth__Audience)$TOKENS
  PostgreSQL 127.0.0.1:$PG_PORT  Redis 127.0.0.1:$REDIS_PORT  (stop them: scripts/run.sh stop)

  Ctrl-C stops the API.
TXT
# scripts/cluster.sh prepares through this script (servers, keys, build, migrations, demo data) and starts its own nodes.
[ -n "${RUN_ONLY_PREPARE:-}" ] && exit 0
cd src/ContentPlanning.Api
exec dotnet "bin/Release/net10.0/ContentPlanning.Api.dll" --urls "$API_URL"
