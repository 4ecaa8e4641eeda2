-- wrk script for scripts/bench-http.sh. Environment:
--   BENCH_PATH    request path; "{user}" is replaced by bench-<n>, "{n}" by n
--   BENCH_USERS   how many users to cycle through (1 = always bench-1)
--   BENCH_METHOD  GET (default) or POST; BENCH_BODY the body, with the same placeholders
--   BENCH_FIRST   the first n (default 1): n runs over BENCH_FIRST .. BENCH_FIRST + BENCH_USERS - 1
--   BENCH_MAX     optional: each thread stops after this many requests (a pass over the users, nothing more)
--   BENCH_TOKEN   optional bearer token
-- Prints one line at the end: RESULT requests seconds socket-errors non-2xx p50-us p99-us mean-us.
local path = os.getenv("BENCH_PATH")
local users = tonumber(os.getenv("BENCH_USERS") or "1")
local method = os.getenv("BENCH_METHOD") or "GET"
local body_template = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN")
local first = tonumber(os.getenv("BENCH_FIRST") or "1")
local max_per_thread = tonumber(os.getenv("BENCH_MAX") or "0")

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("offset", thread_count - 1)
  table.insert(threads, thread)
end

function init(args)
  counter = offset
  step = tonumber(os.getenv("BENCH_THREADS") or "1")
end

local function fill(template, n)
  return (template:gsub("{user}", "bench-" .. n):gsub("{n}", tostring(n)))
end

function request()
  local n = (counter % users) + first
  counter = counter + step
  local headers = {}
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  local body = nil
  if body_template then
    body = fill(body_template, n)
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, fill(path, n), headers, body)
end

-- Only defined when needed: a response() callback makes wrk hand every body to Lua, which costs throughput.
if max_per_thread > 0 then
  function response(status, headers, body)
    sent = (sent or 0) + 1
    if sent >= max_per_thread then wrk.thread:stop() end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.3f %d %d %d %d %d\n",
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
