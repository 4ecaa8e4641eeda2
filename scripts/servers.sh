#!/usr/bin/env bash
# Local PostgreSQL and Redis for the run and test commands. Sourced, not executed.
# Everything lives under $DATA_ROOT (an ignored folder in the checkout); servers bind to 127.0.0.1 only.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

# ensure_packages [COMMAND[=PACKAGE]...]: the servers every script needs, plus the given commands (each from the Debian
# package of that name, or the one named after "=": nginx=nginx-light).
ensure_packages() {
  local missing=() extra
  for extra in "$@"; do command -v "${extra%%=*}" >/dev/null 2>&1 || missing+=("${extra#*=}"); done
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  # The Sentinel failover test (RedisHighAvailability/SentinelFailoverTests) starts three of them.
  command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
  pg_bin >/dev/null 2>&1 || missing+=(postgresql)
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
  # The metrics round-trip test scrapes the API with a real Prometheus (it never starts as a service here).
  command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# start_postgres DIR PORT: initialises DIR on first use; a no-op when that cluster already runs.
start_postgres() {
  local dir=$1 port=$2 bin run_as=()
  bin=$(pg_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
    chown -R postgres:postgres "$dir"
    # Every parent must be traversable by postgres.
    local p=$dir
    while [ "$p" != / ]; do p=$(dirname "$p"); chmod o+x "$p" 2>/dev/null || true; done
    run_as=(runuser -u postgres --)
  fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    "${run_as[@]}" "$bin/initdb" -D "$dir" -U app --auth=trust -E UTF8 >/dev/null
  fi
  if "${run_as[@]}" "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    return 0
  fi
  "${run_as[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=${PG_FSYNC:-on}" start >/dev/null
}

stop_postgres() {
  local dir=$1 bin run_as=()
  [ -f "$dir/PG_VERSION" ] || return 0
  bin=$(pg_bin)
  [ "$(id -u)" = 0 ] && run_as=(runuser -u postgres --)
  "${run_as[@]}" "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# ensure_database PORT NAME: creates the database when missing.
ensure_database() {
  local port=$1 name=$2
  if ! psql -h 127.0.0.1 -p "$port" -U app -d postgres -tAc "select 1 from pg_database where datname='$name'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U app -d postgres -qc "create database \"$name\"" >/dev/null
  fi
}

start_redis() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then return 0; fi
  # REDIS_MAXMEMORY / REDIS_MAXMEMORY_POLICY (e.g. 256mb, allkeys-lru): Redis is a cache tier here, see README.
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --maxmemory "${REDIS_MAXMEMORY:-0}" --maxmemory-policy "${REDIS_MAXMEMORY_POLICY:-noeviction}"
  local i
  for i in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "Redis did not start on port $port (see $dir/redis.log)" >&2
  return 1
}

# start_pgbouncer DIR PORT PG_PORT [POOL_MODE]: PgBouncer on 127.0.0.1:PORT in front of the PostgreSQL on PG_PORT
# (every database, as user app, transaction pooling unless told otherwise). Installed on first use.
start_pgbouncer() {
  local dir=$1 port=$2 pg_port=$3 mode=${4:-transaction} run_as=()
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || ensure_packages pgbouncer
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pg_port user=app
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = any
pool_mode = $mode
max_client_conn = 1000
default_pool_size = 20
min_pool_size = 0
server_idle_timeout = 60
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  if [ "$(id -u)" = 0 ]; then
    # PgBouncer refuses to run as root.
    chown -R postgres:postgres "$dir"
    local p=$dir
    while [ "$p" != / ]; do p=$(dirname "$p"); chmod o+x "$p" 2>/dev/null || true; done
    run_as=(runuser -u postgres --)
  fi
  stop_pgbouncer "$dir"
  "${run_as[@]}" "$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" -d "$dir/pgbouncer.ini"
  local i
  for i in $(seq 1 50); do
    psql -h 127.0.0.1 -p "$port" -U app -d postgres -tAc 'select 1' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "PgBouncer did not start on port $port (see $dir/pgbouncer.log)" >&2
  return 1
}

stop_pgbouncer() {
  local dir=$1 pid
  [ -f "$dir/pgbouncer.pid" ] || return 0
  pid=$(cat "$dir/pgbouncer.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
    local i
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$dir/pgbouncer.pid"
}

stop_redis() {
  local port=$1
  redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
}

# The benchmark and measurement scripts' own servers.
# start_bench_servers DATA PG_PORT REDIS_PORT DATABASE [COMMAND[=PACKAGE]...]: DATA emptied, then PostgreSQL (fsync off,
# with DATABASE) and Redis started there; the packages (and the given commands, as ensure_packages) installed. Exports
# the API's connection strings and production settings without authentication (ASPNETCORE_ENVIRONMENT=Production,
# Auth__Mode=none), builds the API (Release; NO_BUILD=1 skips it), sets API_DLL (BENCH_API_DLL names another build) and
# migrates DATABASE. When the script exits, every process in BENCH_PIDS (the APIs of start_bench_api, and what the
# script adds) is stopped, then Redis and PostgreSQL.
BENCH_PIDS=()
start_bench_servers() {
  bench_data=$1 bench_redis_port=$3
  local pg_port=$2 database=$4
  shift 4
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
  ensure_packages "$@"
  trap stop_bench_servers EXIT
  stop_redis "$bench_redis_port"; stop_postgres "$bench_data/pg"; rm -rf "$bench_data"; mkdir -p "$bench_data"
  PG_FSYNC=off start_postgres "$bench_data/pg" "$pg_port"
  ensure_database "$pg_port" "$database"
  start_redis "$bench_data/redis" "$bench_redis_port"
  export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$pg_port;Username=app;Database=$database"
  export ConnectionStrings__Redis="127.0.0.1:$bench_redis_port"
  export ASPNETCORE_ENVIRONMENT=Production Auth__Mode=none
  if [ "${NO_BUILD:-}" != 1 ]; then
    echo "== Building (Release)"
    dotnet build src/ContentPlanning.Api -c Release -nologo -v quiet -clp:ErrorsOnly
  fi
  API_DLL=${BENCH_API_DLL:-$PWD/src/ContentPlanning.Api/bin/Release/net10.0/ContentPlanning.Api.dll}
  dotnet "$API_DLL" migrate >/dev/null
}

# start_bench_api NAME URL [ENV=VALUE...]: the API (API_DLL, run from its own folder, so with its appsettings.json) on URL
# with these settings added, its console appended to DATA/NAME.log; waits until it is ready (60 s at most, else the script
# fails). Its process id: STARTED_PID, also kept in BENCH_PIDS.
start_bench_api() {
  local name=$1 url=$2 _
  shift 2
  (cd "$(dirname "$API_DLL")" && exec env "$@" dotnet "$API_DLL" --urls "$url") >>"$bench_data/$name.log" 2>&1 &
  STARTED_PID=$!
  BENCH_PIDS+=("$STARTED_PID")
  for _ in $(seq 1 300); do
    curl -sf "$url/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$STARTED_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "The API ($name) did not become ready on $url (see $bench_data/$name.log)" >&2
  exit 1
}

# stop_bench_pids [PID...]: stops these processes of the script, or without arguments every one in BENCH_PIDS (TERM, then
# waits for each), and forgets them.
stop_bench_pids() {
  local pid kept=()
  [ $# -gt 0 ] || set -- "${BENCH_PIDS[@]}"
  for pid in "$@"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  for pid in "${BENCH_PIDS[@]}"; do [[ " $* " == *" $pid "* ]] || kept+=("$pid"); done
  BENCH_PIDS=("${kept[@]}")
}

stop_bench_servers() {
  stop_bench_pids
  stop_redis "$bench_redis_port"
  stop_postgres "$bench_data/pg"
}
