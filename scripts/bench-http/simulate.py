#!/usr/bin/env python3
"""The seeds' promises, measured (scripts/bench-http.sh --simulate): reads drawn from a Zipf distribution over users,
spread over comprehensive data, active strategy and calendar reads, on two nodes; 2 % writes through the API and 0.5 %
made directly in SQL. Prints one JSON object: per-tier answers and latencies, hit rate, stale-as-fresh answers.

Every write sets the user's industry to a unique, ordered value (writes to one user are serialised here, so commit order
is sequence order) and records when it was acknowledged (the API's 200, psql's exit after COMMIT). A comprehensive-data
answer to a read begun after the user's last acknowledged write that shows an older industry without is_stale counts as
stale-as-fresh: strictly, from the acknowledgement on, counted apart for API and SQL writes (and, for SQL writes, apart
for reads begun within 1 s of the commit: the change notification's propagation, README "Writes made outside the API").

Load: closed loop by default (SIM_THREADS threads, default 8, each sending its next request when the previous one is
answered: saturation); with SIM_RATE=R an open loop at R requests/s in total (SIM_THREADS, default 32, threads each on a
fixed schedule; a latency counts from the request's scheduled time, so a queue in front of the server is measured).
Latencies: the server's own (its Server-Timing header) and what this client observed over loopback."""
import bisect, http.client, json, os, random, subprocess, sys, threading, time

nodes, users, duration, seed_calendars = sys.argv[1].split(","), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
force = len(sys.argv) > 5 and sys.argv[5] == "force"
psql = sys.argv[6:] if len(sys.argv) > 6 else []
rate = float(os.environ.get("SIM_RATE") or 0)
thread_count = int(os.environ.get("SIM_THREADS") or (32 if rate else 8))
calendars = [int(x) for x in seed_calendars.split(",") if x]
S = 1.1
weights = [1 / (r ** S) for r in range(1, users + 1)]
cdf, total = [], 0.0
for w in weights:
    total += w
    cdf.append(total)

lock = threading.Lock()
last_write = {}      # user -> (industry, acknowledged_at, kind)
results = []         # (kind, tier, latency_ms, ok, server_ms)
stale = {"api": 0, "sql_within_1s": 0, "sql_after_1s": 0}
checked = {"api": 0, "sql_within_1s": 0, "sql_after_1s": 0}
sequence = [0]
late = [0]

def zipf_user(rng):
    return "bench-" + str(bisect.bisect_left(cdf, rng.random() * total) + 1)

def version(industry):
    """Writes set "api-N" / "sql-N" with one global sequence N; anything else is the seeded value, older than all."""
    try:
        return int(str(industry).rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0

user_locks = {}

def user_lock(user):
    """Writes to one user are serialised here, so their commit order is their sequence order."""
    with lock:
        return user_locks.setdefault(user, threading.Lock())

def next_value(prefix):
    with lock:
        sequence[0] += 1
        return f"{prefix}-{sequence[0]}"

TIERS = {"memory": "memory", "redis": "redis", "database_snapshot": "database_snapshot", "computed": "computed", "database": "database"}

def one_request(conn, rng, started):
    user = zipf_user(rng)
    roll = rng.random()
    if roll < 0.02:
        with user_lock(user):
            value = next_value("api")
            conn.request("PUT", f"/api/content-planning/users/{user}/profile", json.dumps({"industry": value}),
                         {"Content-Type": "application/json"})
            response = conn.getresponse(); response.read()
            if response.status == 200:
                with lock:
                    last_write[user] = (value, time.time(), "api")
        results.append(("write_api", "write", (time.time() - started) * 1000, response.status == 200, None))
        return
    if roll < 0.025 and psql:
        with user_lock(user):
            value = next_value("sql")
            done = subprocess.run(psql + ["-c", f"UPDATE user_profiles SET industry = '{value}' WHERE user_id = '{user}'"],
                                  capture_output=True)
            if done.returncode == 0:
                with lock:
                    last_write[user] = (value, time.time(), "sql")
        results.append(("write_sql", "write", (time.time() - started) * 1000, done.returncode == 0, None))
        return
    kind = "comprehensive" if roll < 0.6 else "active" if roll < 0.85 else "calendar"
    if kind == "calendar" and calendars:
        path = f"/api/content-planning/calendars/{calendars[min(len(calendars) - 1, int(bisect.bisect_left(cdf, rng.random() * total) % len(calendars)))]}"
    elif kind == "active":
        path = f"/api/content-planning/users/{user}/active-strategy?force_refresh={'true' if force else 'false'}"
    else:
        kind = "comprehensive"
        path = f"/api/content-planning/calendar-generation/comprehensive-user-data?user_id={user}{'&force_refresh=true' if force else ''}"
    sent = time.time()
    with lock:
        before = last_write.get(user)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    latency = (time.time() - started) * 1000
    timing = response.getheader("Server-Timing") or ""
    server = float(timing.split("dur=", 1)[1].split(",", 1)[0].split(";", 1)[0]) if "dur=" in timing else None
    tier = "calendar"
    if response.status == 200 and kind != "calendar":
        answer = json.loads(body)
        info = answer.get("cache_info") or {}
        tier = TIERS.get(info.get("source"), "other")
        if kind == "comprehensive" and before is not None and sent > before[1]:
            bucket = "api" if before[2] == "api" else "sql_within_1s" if sent < before[1] + 1.0 else "sql_after_1s"
            industry = (answer.get("data") or {}).get("industry")
            with lock:
                checked[bucket] += 1
                # Older than the last acknowledged write (a newer one may be committing while this read runs, and may
                # already show: that is not stale).
                if version(industry) < version(before[0]) and not info.get("is_stale"):
                    stale[bucket] += 1
    results.append((kind, tier, latency, response.status == 200, server))

def worker(index):
    rng = random.Random(index)
    host, port = nodes[index % len(nodes)].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    end = time.time() + duration
    interval = thread_count / rate if rate else 0
    scheduled = time.time() + rng.random() * interval
    while True:
        if rate:
            now = time.time()
            if scheduled > now:
                time.sleep(scheduled - now)
            elif now - scheduled > interval:
                late[0] += 1
            started = scheduled
            scheduled += rng.expovariate(1 / interval)
        else:
            started = time.time()
        if started >= end:
            break
        try:
            one_request(conn, rng, started)
        except (OSError, http.client.HTTPException):
            results.append(("error", "error", (time.time() - started) * 1000, False, None))
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=30)

began = time.time()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(thread_count)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.time() - began

def pct(values, p):
    if not values: return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p * len(values)))], 2)

reads = [r for r in results if r[0] in ("comprehensive", "active", "calendar")]
tiers = {}
for tier in ("memory", "redis", "database_snapshot", "computed", "database", "calendar"):
    lat = [r[2] for r in reads if r[1] == tier and r[3]]
    srv = [r[4] for r in reads if r[1] == tier and r[3] and r[4] is not None]
    tiers[tier] = {"answers": len(lat), "share": round(len(lat) / max(1, len(reads)), 4), "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95),
                   "server_p50_ms": pct(srv, 0.5), "server_p95_ms": pct(srv, 0.95)}
cacheable = [r for r in reads if r[0] != "calendar" and r[3]]
HIT = ("memory", "redis", "database_snapshot")
def hit_rate(rows):
    return round(sum(1 for r in rows if r[1] in HIT) / max(1, len(rows)), 4)
print(json.dumps({
    "requests": len(results), "elapsed_s": round(elapsed, 1), "throughput": round(len(results) / elapsed, 1),
    "target_rate": rate or None, "threads": thread_count, "late_sends": late[0],
    "errors": sum(1 for r in results if not r[3]), "reads": len(reads),
    "writes_api": sum(1 for r in results if r[0] == "write_api"), "writes_sql": sum(1 for r in results if r[0] == "write_sql"),
    "tiers": tiers, "hit_rate": hit_rate(cacheable),
    "hit_rate_comprehensive": hit_rate([r for r in cacheable if r[0] == "comprehensive"]),
    "hit_rate_active": hit_rate([r for r in cacheable if r[0] == "active"]),
    "stale_checked": checked, "stale_as_fresh": stale, "duration_s": duration,
}))
