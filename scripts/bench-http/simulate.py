#!/usr/bin/env python3
"""The seeds' promises, measured (scripts/bench-http.sh --simulate): reads drawn from a Zipf distribution over users,
spread over comprehensive data, active strategy and calendar reads, on two nodes; 2 % writes through the API and 0.5 %
made directly in SQL. Prints one JSON object: per-tier answers and latencies, hit rate, stale-as-fresh answers.

Every write sets the user's industry to a unique value and records when it committed; a comprehensive-data answer begun
more than 1 s after the user's last committed write that still shows an older industry without is_stale counts as
stale-as-fresh. Latencies: the server's own (its Server-Timing header) and what this client observed over loopback."""
import bisect, http.client, json, random, subprocess, sys, threading, time

nodes, users, duration, seed_calendars = sys.argv[1].split(","), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
force = len(sys.argv) > 5 and sys.argv[5] == "force"
psql = sys.argv[6:] if len(sys.argv) > 6 else []
calendars = [int(x) for x in seed_calendars.split(",") if x]
S = 1.1
weights = [1 / (r ** S) for r in range(1, users + 1)]
cdf, total = [], 0.0
for w in weights:
    total += w
    cdf.append(total)

lock = threading.Lock()
last_write = {}      # user -> (industry, committed_at)
results = []         # (kind, tier, latency_ms, ok, server_ms)
stale_as_fresh = [0]
checked = [0]
sequence = [0]

def zipf_user(rng):
    return "bench-" + str(bisect.bisect_left(cdf, rng.random() * total) + 1)

def version(industry):
    """Writes set "api-N" / "sql-N" with one global sequence N; anything else is the seeded value, older than all."""
    try:
        return int(str(industry).rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0

def next_value(prefix):
    with lock:
        sequence[0] += 1
        return f"{prefix}-{sequence[0]}"

def worker(index):
    rng = random.Random(index)
    host, port = nodes[index % len(nodes)].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    end = time.time() + duration
    refresh = "&force_refresh=true" if force else ""
    while time.time() < end:
        user = zipf_user(rng)
        roll = rng.random()
        started = time.time()
        try:
            if roll < 0.02:
                value = next_value("api")
                conn.request("PUT", f"/api/content-planning/users/{user}/profile", json.dumps({"industry": value}),
                             {"Content-Type": "application/json"})
                response = conn.getresponse(); response.read()
                if response.status == 200:
                    with lock:
                        last_write[user] = (value, time.time())
                results.append(("write_api", "write", (time.time() - started) * 1000, response.status == 200, None))
                continue
            if roll < 0.025 and psql:
                value = next_value("sql")
                done = subprocess.run(psql + ["-c", f"UPDATE user_profiles SET industry = '{value}' WHERE user_id = '{user}'"],
                                      capture_output=True)
                if done.returncode == 0:
                    with lock:
                        last_write[user] = (value, time.time())
                results.append(("write_sql", "write", (time.time() - started) * 1000, done.returncode == 0, None))
                continue
            kind = "comprehensive" if roll < 0.6 else "active" if roll < 0.85 else "calendar"
            if kind == "calendar" and calendars:
                path = f"/api/content-planning/calendars/{calendars[min(len(calendars) - 1, int(bisect.bisect_left(cdf, rng.random() * total) % len(calendars)))]}"
            elif kind == "active":
                path = f"/api/content-planning/users/{user}/active-strategy?force_refresh={'true' if force else 'false'}"
            else:
                kind = "comprehensive"
                path = f"/api/content-planning/calendar-generation/comprehensive-user-data?user_id={user}{refresh}"
            with lock:
                before = last_write.get(user)
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            latency = (time.time() - started) * 1000
            timing = response.getheader("Server-Timing") or ""
            server = float(timing.split("dur=", 1)[1]) if "dur=" in timing else None
            tier = "database"
            if response.status == 200 and kind != "calendar":
                answer = json.loads(body)
                info = answer.get("cache_info") or {}
                tier = {"memory": "L1 memory", "redis": "L2 redis", "database_snapshot": "snapshot"}.get(info.get("source"), "database")
                if kind == "comprehensive" and before is not None and started > before[1] + 1.0:
                    industry = (answer.get("data") or {}).get("industry")
                    with lock:
                        checked[0] += 1
                        # Older than the last committed write (a newer one may be committing while this read runs, and
                        # may already show: that is not stale).
                        if version(industry) < version(before[0]) and not info.get("is_stale"):
                            stale_as_fresh[0] += 1
            results.append((kind, tier, latency, response.status == 200, server))
        except (OSError, http.client.HTTPException):
            results.append(("error", "error", (time.time() - started) * 1000, False, None))
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=30)

threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()

def pct(values, p):
    if not values: return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p * len(values)))], 2)

reads = [r for r in results if r[0] in ("comprehensive", "active", "calendar")]
tiers = {}
for tier in ("L1 memory", "L2 redis", "snapshot", "database"):
    lat = [r[2] for r in reads if r[1] == tier and r[3]]
    srv = [r[4] for r in reads if r[1] == tier and r[3] and r[4] is not None]
    tiers[tier] = {"answers": len(lat), "share": round(len(lat) / max(1, len(reads)), 4), "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95),
                   "server_p50_ms": pct(srv, 0.5), "server_p95_ms": pct(srv, 0.95)}
cacheable = [r for r in reads if r[0] != "calendar" and r[3]]
hits = [r for r in cacheable if r[1] in ("L1 memory", "L2 redis", "snapshot")]
print(json.dumps({
    "requests": len(results), "errors": sum(1 for r in results if not r[3]), "reads": len(reads),
    "writes_api": sum(1 for r in results if r[0] == "write_api"), "writes_sql": sum(1 for r in results if r[0] == "write_sql"),
    "tiers": tiers, "hit_rate": round(len(hits) / max(1, len(cacheable)), 4),
    "stale_checked": checked[0], "stale_as_fresh": stale_as_fresh[0], "duration_s": duration,
}))
