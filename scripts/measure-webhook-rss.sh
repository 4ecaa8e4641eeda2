#!/usr/bin/env bash
# Issue 21 item 1: the API's resident memory while it delivers completion webhooks to a hostile receiver.
# The receiver (python3, 127.0.0.1) answers every POST with `Content-Length: 1887436800` and streams 1 MiB chunks as
# fast as the socket takes them, until the node hangs up; it logs how many bytes it got out per connection.
#   1. 200 + the endless body, JOBS jobs one after another: each webhook must be `delivered` on its first attempt;
#   2. 503 + the endless body: one job whose delivery spends its budget (Webhooks__MaxAttempts=3) and ends `failed`;
#   3. headers that never finish (one byte a second): the attempt ends at Webhooks__Timeout (3 s here).
# VmRSS of the API process is sampled every 50 ms (baseline, peak per phase, after) and VmHWM read at the end.
# Starts its own PostgreSQL and Redis (data in .local/webhook-rss); builds the API (Release) unless NO_BUILD=1.
#   scripts/measure-webhook-rss.sh
# Ports: PG_PORT (55560), REDIS_PORT (56560), API_PORT (56561), RECEIVER_PORT (56562). JOBS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/servers.sh

PG_PORT=${PG_PORT:-55560} REDIS_PORT=${REDIS_PORT:-56560} API_PORT=${API_PORT:-56561} RECEIVER_PORT=${RECEIVER_PORT:-56562}
JOBS=${JOBS:-3}
DATA=$ROOT/.local/webhook-rss
start_bench_servers "$DATA" "$PG_PORT" "$REDIS_PORT" content_planning_webhooks python3
PSQL=(psql -qtA -h 127.0.0.1 -p "$PG_PORT" -U app -d content_planning_webhooks)

# The receiver: MODE is read from a file before each answer, so one process serves every phase.
echo ok200 >"$DATA/mode"
python3 - "$RECEIVER_PORT" "$DATA/mode" >"$DATA/receiver.log" 2>&1 <<'PY' &
import os, socketserver, sys, time
port, mode_file = int(sys.argv[1]), sys.argv[2]
CHUNK = os.urandom(1 << 20)
DECLARED = 1887436800

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        data = b""
        while b"\r\n\r\n" not in data:
            more = s.recv(65536)
            if not more:
                return
            data += more
        head, body = data.split(b"\r\n\r\n", 1)
        length = next((int(l.split(b":", 1)[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            body += s.recv(65536)
        mode = open(mode_file).read().strip()
        started, sent = time.monotonic(), 0
        try:
            if mode == "slowheaders":
                s.sendall(b"HTTP/1.1 200 OK\r\n")
                while time.monotonic() - started < 120:
                    s.sendall(b"X")
                    sent += 1
                    time.sleep(1)
            else:
                status = b"200 OK" if mode == "ok200" else b"503 Service Unavailable"
                s.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                          + str(DECLARED).encode() + b"\r\n\r\n")
                while sent < DECLARED:
                    s.sendall(CHUNK)
                    sent += len(CHUNK)
            end = "sent all"
        except OSError as e:
            end = type(e).__name__
        print(f"{mode}: {sent / 1048576:.1f} MiB sent in {time.monotonic() - started:.2f} s, then {end}", flush=True)

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

Server(("127.0.0.1", port), Handler).serve_forever()
PY
receiver_pid=$!
BENCH_PIDS+=("$receiver_pid")

export Logging__LogLevel__Default=Warning
export RateLimiting__CalendarGenerationPerMinute=1000000 OTEL_TRACES_SAMPLER=always_off
export Webhooks__SigningSecret="whsec_$(head -c 32 /dev/urandom | base64)"
export Webhooks__AllowInsecureHttp=true Webhooks__AllowPrivateNetworks=true
export Webhooks__MaxAttempts=3 Webhooks__RetryBaseDelay=00:00:01 Webhooks__MaxRetryDelay=00:00:02 Webhooks__Timeout=00:00:03
export CalendarJobs__QueuePollInterval=00:00:01
"${PSQL[@]}" -c "INSERT INTO content_strategies (user_id, name, industry, content_pillars, business_objectives)
  SELECT 'hook-' || i, 'Plan', 'retail', '{\"Education\": 3, \"Stories\": 1}', '[\"brand awareness\"]' FROM generate_series(1, $JOBS + 2) i"
start_bench_api api "http://127.0.0.1:$API_PORT"
api_pid=$STARTED_PID
B=http://127.0.0.1:$API_PORT/api/content-planning

rss() { awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$api_pid/status"; }
hwm() { awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$api_pid/status"; }
# Every sample as "seconds MB" in $DATA/rss (the sampler runs until the end).
t0=$(date +%s.%N)
(while kill -0 "$api_pid" 2>/dev/null; do echo "$(echo "$(date +%s.%N) - $t0" | bc) $(rss)"; sleep 0.05; done) >"$DATA/rss" 2>/dev/null &
BENCH_PIDS+=("$!")
now() { echo "$(date +%s.%N) - $t0" | bc; }
peak_since() { awk -v from="$1" '$1 >= from && $2 > max { max = $2 } END { print max + 0 }' "$DATA/rss"; }

# start USER: starts a monthly job with the receiver as callback; prints the session id.
start() {
  curl -sf -H 'Content-Type: application/json' \
    -d "{\"user_id\": \"$1\", \"calendar_type\": \"monthly\", \"callback_url\": \"http://127.0.0.1:$RECEIVER_PORT/hook\"}" \
    "$B/calendar-generation/start" | sed 's/.*"session_id":"\([^"]*\)".*/\1/'
}
# settle SESSION: waits (at most 120 s) until the job's webhook is no longer pending; prints its state.
settle() {
  local state
  for _ in $(seq 1 1200); do
    state=$("${PSQL[@]}" -c "SELECT coalesce(webhook_status, '-') || ', ' || webhook_attempts || ' attempt(s), last HTTP ' || coalesce(webhook_last_status_code::text, 'none') FROM calendar_jobs WHERE session_id = '$1'")
    case "$state" in pending*|-*|'') sleep 0.1 ;; *) echo "$state"; return 0 ;; esac
  done
  echo "still pending after 120 s: $state"
}

# Warm the job and webhook code paths once with the same receiver (a first delivery JITs the HTTP stack).
echo "== Warm-up: one delivery"
echo "warm-up: $(settle "$(start hook-$((JOBS + 2)))")"
sleep 2
base=$(rss)
echo "baseline after warm-up: VmRSS ${base} MB, VmHWM $(hwm) MB"

echo "== 1. 200 + Content-Length 1887436800, 1 MiB chunks: $JOBS jobs, one after another"
from=$(now)
for i in $(seq 1 "$JOBS"); do
  s=$(start "hook-$i"); t=$(date +%s.%N)
  state=$(settle "$s")
  echo "job $i: webhook $state in $(echo "$(date +%s.%N) - $t" | bc | xargs printf '%.1f') s (start to recorded)"
done
echo "peak VmRSS during phase 1: $(peak_since "$from") MB"

echo "== 2. 503 + the same body: one job, Webhooks__MaxAttempts=3"
echo fail503 >"$DATA/mode"
from=$(now)
s=$(start "hook-$((JOBS + 1))")
echo "job: webhook $(settle "$s")"
echo "peak VmRSS during phase 2: $(peak_since "$from") MB"

echo "== 3. headers that never finish (a byte a second), Webhooks__Timeout=3 s: one attempt"
echo slowheaders >"$DATA/mode"
"${PSQL[@]}" -c "DELETE FROM calendar_jobs WHERE user_id = 'hook-1'"
from=$(now)
s=$(start hook-1); t=$(date +%s.%N)
until [ "$("${PSQL[@]}" -c "SELECT webhook_attempts FROM calendar_jobs WHERE session_id = '$s'")" -ge 1 ]; do sleep 0.1; done
echo "first attempt recorded $(echo "$(date +%s.%N) - $t" | bc | xargs printf '%.1f') s after the start (job run + Webhooks__Timeout), state $("${PSQL[@]}" -c "SELECT webhook_status FROM calendar_jobs WHERE session_id = '$s'")"
echo "peak VmRSS during phase 3: $(peak_since "$from") MB"

sleep 3
echo
echo "== Receiver: bytes it got out per connection (the rest of the 1 800 MiB was never read)"
cat "$DATA/receiver.log"
echo
echo "VmRSS: baseline ${base} MB, peak during the deliveries $(peak_since 0) MB (warm-up included), after $(rss) MB; VmHWM (process lifetime) $(hwm) MB"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
