-- The HTTP load of the benchmark under wrk (run by caseload/bench/load.py; locust is the fallback).
--
-- One connection per thread, so each thread knows which request an answer is for. Each thread
-- holds a caseworker's session cookie (made by the benchmark: no password hashing in the run) and
-- loops without pause over a caseworker's day, the same mix as locustfile.py: search by name (2)
-- and by phone (1), a profile (3), the dashboard (2), a case note (1: its form, then the POST).
-- BENCH_LOAD_MODE=floor sends only the bare view. The config (BENCH_WRK_CONFIG) is a Lua file
-- returning a table written by load.py. done() prints one JSON line for load.py to read.

local config = dofile(os.getenv("BENCH_WRK_CONFIG"))
local floor = os.getenv("BENCH_LOAD_MODE") == "floor"
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local plan = {}
local step = 0
local pending = {}
local cookie = ""
counts = {}
failures = {}
failed = 0

local function pick(list)
  return list[math.random(#list)]
end

local function urlencode(text)
  return (string.gsub(text, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  math.randomseed(id * 7919)
  cookie = config.session_cookie_name .. "=" .. config.sessions[(id - 1) % #config.sessions + 1]
    .. "; " .. config.csrf_cookie_name .. "=" .. config.csrf_secret
  if floor then
    plan = { "floor" }
  else
    plan = { "search: name", "profile", "dashboard", "search: phone", "profile", "note", "search: name", "profile", "dashboard" }
    if #config.notes == 0 then
      table.remove(plan, 6)
    end
  end
end

local function get(name, path)
  return name, wrk.format("GET", path, { ["Cookie"] = cookie })
end

local function next_request()
  step = step % #plan + 1
  local kind = plan[step]
  if kind == "floor" then
    return get("bare view (floor)", config.floor)
  elseif kind == "search: name" then
    return get(kind, "/clients/?q=" .. urlencode(pick(config.names)))
  elseif kind == "search: phone" then
    return get(kind, "/clients/?q=" .. urlencode(pick(config.phones)))
  elseif kind == "profile" then
    return get("client profile", pick(config.profiles))
  elseif kind == "dashboard" then
    return get(kind, config.dashboard)
  end
  -- A case note: the form, then its POST (queued for the next call).
  local url = pick(config.notes)
  local body = "csrfmiddlewaretoken=" .. config.csrf_secret .. "&note_type=contact&contact_date=" .. config.today
    .. "&body=" .. urlencode("Called the client about the interview on Thursday; they will bring their documents.")
  table.insert(pending, { "note save", wrk.format("POST", url, {
    ["Cookie"] = cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Referer"] = "http://127.0.0.1" .. url,
  }, body) })
  return get("note form", url)
end

local current = ""

function request()
  local name, raw
  if #pending > 0 then
    local item = table.remove(pending, 1)
    name, raw = item[1], item[2]
  else
    name, raw = next_request()
  end
  current = name
  return raw
end

function response(status, headers, body)
  counts[current] = (counts[current] or 0) + 1
  local ok = (current == "note save" and (status == 302 or status == 303)) or (current ~= "note save" and status == 200)
  if not ok then
    failed = failed + 1
    local key = current .. ": " .. status
    failures[key] = (failures[key] or 0) + 1
  end
end

local function json_object(t)
  local parts = {}
  for k, v in pairs(t) do
    table.insert(parts, string.format("%q:%d", k, v))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local all_counts, all_failures, total_failed = {}, {}, 0
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("counts")) do all_counts[k] = (all_counts[k] or 0) + v end
    for k, v in pairs(thread:get("failures")) do all_failures[k] = (all_failures[k] or 0) + v end
    total_failed = total_failed + thread:get("failed")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"median_us":%d,"p95_us":%d,"p99_us":%d,"failed":%d,' ..
    '"socket_errors":%d,"counts":%s,"failures":%s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    total_failed, e.connect + e.read + e.write + e.timeout, json_object(all_counts), json_object(all_failures)))
end
