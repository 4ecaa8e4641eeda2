#!/usr/bin/env bash
# Cache benchmarks (BenchmarkDotNet, ShortRun, in-process) and the backplane propagation delay between two nodes.
# Starts its own Redis on 127.0.0.1:${BENCH_REDIS_PORT:-56381} (data in .local/bench), stops it at the end.
# Arguments go to BenchmarkDotNet (default: --filter '*CacheBenchmarks*').
# Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

PORT=${BENCH_REDIS_PORT:-56381}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export BENCH_REDIS="127.0.0.1:$PORT"

ensure_packages
trap 'stop_redis "$PORT"' EXIT
start_redis "$ROOT/.local/bench/redis" "$PORT"

echo "== Building (Release)"
dotnet build tests/ContentPlanning.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly

bin=tests/ContentPlanning.Benchmarks/bin/Release/net10.0/ContentPlanning.Benchmarks.dll
echo "== Benchmarks"
if [ $# -eq 0 ]; then set -- --filter '*CacheBenchmarks*'; fi
(cd .local/bench && dotnet "$ROOT/$bin" "$@")
echo "== Backplane delay"
dotnet "$bin" --backplane-delay
