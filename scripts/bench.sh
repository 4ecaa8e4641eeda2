#!/usr/bin/env bash
# Benchmarks (BenchmarkDotNet, ShortRun, in-process):
#   scripts/bench.sh               the cache benchmarks, the backplane propagation delay between two nodes, then the
#                                  pipeline benchmark (a cached read through the API's whole pipeline vs a bare endpoint)
#   scripts/bench.sh --pipeline    the pipeline benchmark only
#   scripts/bench.sh ARGS...       the cache benchmarks with these BenchmarkDotNet arguments (default: --filter '*CacheBenchmarks*')
# Starts its own Redis on 127.0.0.1:${BENCH_REDIS_PORT:-56381} and, for the pipeline benchmark, PostgreSQL on
# ${BENCH_PG_PORT:-56382} (data in .local/bench), stops them at the end. Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

PORT=${BENCH_REDIS_PORT:-56381} PG_PORT=${BENCH_PG_PORT:-56382}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export BENCH_REDIS="127.0.0.1:$PORT"
CACHE=true PIPELINE=true
if [ "${1:-}" = --pipeline ]; then CACHE=false; shift; elif [ $# -gt 0 ]; then PIPELINE=false; fi

ensure_packages
trap 'stop_redis "$PORT"; stop_postgres "$ROOT/.local/bench/pg"' EXIT
start_redis "$ROOT/.local/bench/redis" "$PORT"

if $CACHE; then
  echo "== Building (Release)"
  dotnet build tests/ContentPlanning.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly
  bin=tests/ContentPlanning.Benchmarks/bin/Release/net10.0/ContentPlanning.Benchmarks.dll
  echo "== Benchmarks"
  if [ $# -eq 0 ]; then set -- --filter '*CacheBenchmarks*'; fi
  (cd .local/bench && dotnet "$ROOT/$bin" "$@")
  echo "== Backplane delay"
  dotnet "$bin" --backplane-delay
fi

if $PIPELINE; then
  echo "== Pipeline benchmark: PostgreSQL on $PG_PORT, building (Release)"
  rm -rf "$ROOT/.local/bench/pg"
  PG_FSYNC=off start_postgres "$ROOT/.local/bench/pg" "$PG_PORT"
  ensure_database "$PG_PORT" content_planning_bench
  export BENCH_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=app;Database=content_planning_bench"
  # WebApplicationFactory looks for its manifest in the working directory: name the API's content root instead.
  export ASPNETCORE_TEST_CONTENTROOT_CONTENTPLANNING_API="$ROOT/src/ContentPlanning.Api"
  dotnet build tests/ContentPlanning.PipelineBenchmarks -c Release -nologo -v quiet -clp:ErrorsOnly
  redis-cli -h 127.0.0.1 -p "$PORT" flushall >/dev/null
  (cd .local/bench && dotnet "$ROOT/tests/ContentPlanning.PipelineBenchmarks/bin/Release/net10.0/ContentPlanning.PipelineBenchmarks.dll" "$@" --filter '*PipelineBenchmarks*')
fi
