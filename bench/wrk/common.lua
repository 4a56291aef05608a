-- Shared by every benchmark script (loaded with dofile): a monotonic clock, a per-client log of every
-- timed answer, form and cookie helpers, and a done() that writes wrk's own summary as JSON.
--
-- Each wrk thread runs one connection (-t N -c N), so a thread is one virtual client whose requests
-- go strictly one after another: request() and response() pair up, and a flow (product page, cart,
-- checkout…) can keep its state in plain thread globals.
--
-- Results leave through files, not thread:get(): wrk 4.1 copies tables between Lua states with a stack
-- bug that corrupts (or crashes) the thread's state. Each client writes BENCH_RESULTS_DIR/client-<id>.log:
--   S <label> <status> <latency µs> <sent at µs> <answered at µs>   one timed answer
--   P <text>                                                        an unexpected answer (a few)
--   F                                                               the client finished its work
-- The file is buffered and flushed when wrk exits (or when the client finishes); bench/load.py reads it.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

local results_dir = os.getenv("BENCH_RESULTS_DIR")
local log = nil
local problems_noted = 0
finished = false

local function client_log()
  if log == nil then
    log = assert(io.open(results_dir .. "/client-" .. tostring(id) .. ".log", "w"))
    log:setvbuf("full", 65536)
  end
  return log
end

function record(label, started_us, status)
  local ended = now_us()
  client_log():write("S\t", label, "\t", status, "\t", ended - started_us, "\t", started_us, "\t", ended, "\n")
end

function note_problem(text)
  if problems_noted < 5 then
    problems_noted = problems_noted + 1
    client_log():write("P\t", (string.gsub(text, "[%c]", " ")), "\n")
  end
end

-- This client is through: a marker file tells the harness, which ends the run once every client is.
-- The client does not stop its wrk thread: wrk would leave its next connection open without a request,
-- and a gunicorn sync worker would sit on it until its timeout kills it. Until the harness ends the
-- run, a finished client sends filler_request() (a tiny static page), whose answers are not recorded.
function finish()
  if finished then
    return
  end
  finished = true
  client_log():write("F\n")
  log:flush()
  local marker = io.open(results_dir .. "/thread-" .. tostring(id) .. ".done", "w")
  if marker then
    marker:write("done\n")
    marker:close()
  end
end

function filler_request()
  return wrk.format("GET", "/bench/static/16")
end

-- ---------------------------------------------------------------------------------------------------------
-- Fixed arrival rate (open loop). With BENCH_RATE set (operations a second over all clients), each client
-- starts an operation on a fixed schedule, BENCH_CLIENTS / BENCH_RATE seconds apart, staggered between
-- clients, instead of as soon as its last one ended. An operation's latency counts from the moment it was
-- due, so time a late client spent waiting for its previous answer is counted as the server's (the
-- coordinated-omission correction), as a shopper arriving on time would have waited it.
-- A script calls paced_delay() from delay() before an operation's first request, and operation_start()
-- in request() for the time to record the operation from. Without BENCH_RATE both are the closed loop's.
-- ---------------------------------------------------------------------------------------------------------

local arrival_rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0
local interval_us = 0
if arrival_rate > 0 then
  interval_us = tonumber(os.getenv("BENCH_CLIENTS") or "1") / arrival_rate * 1000000
end
local next_due_us = nil

function paced()
  return interval_us > 0
end

-- Milliseconds until this client's next operation is due (wrk's delay() unit); 0 when it is late.
function paced_delay()
  if interval_us == 0 then
    return 0
  end
  if next_due_us == nil then
    next_due_us = now_us() + interval_us * ((id - 1) / tonumber(os.getenv("BENCH_CLIENTS") or "1"))
  end
  local wait = next_due_us - now_us()
  return wait > 0 and math.ceil(wait / 1000) or 0
end

-- A paced client opens its connection with one filler request, sent at once and not recorded, and only
-- then waits for its first turn. A connection that stays silent once open holds one of a gunicorn gthread
-- worker's threads for up to 5 s before the worker parks it: at a fixed rate, 32 clients waiting for their
-- turns on new connections held every thread, and answers on open connections queued behind them (the
-- hand-off page's p95 about 1 s). Behind nginx, as in production, no connection opens without a request.
-- A script returns opening_request() from request() while it is not nil, ignores the answer for which
-- opening_answered() is true, and asks for no delay while opening_pending().
local opening = "due" -- then "sent", then "done"

function opening_pending()
  return paced() and opening ~= "done"
end

function opening_request()
  if paced() and opening == "due" then
    opening = "sent"
    return filler_request()
  end
  return nil
end

function opening_answered()
  if opening == "sent" then
    opening = "done"
    return true
  end
  return false
end

-- When the operation starting now counts from: its due time when paced, else now.
function operation_start()
  if interval_us == 0 then
    return now_us()
  end
  local due = next_due_us or now_us()
  next_due_us = due + interval_us
  return math.floor(due) -- the log's times are whole microseconds
end

function split(text, separator)
  local parts = {}
  for part in string.gmatch(text or "", "[^" .. separator .. "]+") do
    parts[#parts + 1] = part
  end
  return parts
end

function urlencode(value)
  return (string.gsub(tostring(value), "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function form(fields)
  local parts = {}
  for _, pair in ipairs(fields) do
    parts[#parts + 1] = urlencode(pair[1]) .. "=" .. urlencode(pair[2])
  end
  return table.concat(parts, "&")
end

function header(headers, name)
  local wanted = string.lower(name)
  for key, value in pairs(headers) do
    if string.lower(key) == wanted then
      return value
    end
  end
  return nil
end

-- The Flask session cookie from a response, or the one we had.
function session_cookie(headers, current)
  local set = header(headers, "Set-Cookie")
  if set then
    local pair = string.match(set, "(session=[^;]*)")
    if pair then
      return pair
    end
  end
  return current
end

function hidden_value(body, name)
  return string.match(body or "", 'name="' .. name .. '"[^>]-value="([^"]*)"')
end

function path_of(location)
  return string.match(location or "", "^https?://[^/]+(/.*)$") or location
end

-- ---------------------------------------------------------------------------------------------------------
-- Setup and done: run in wrk's main Lua state. Only numbers cross between states here.
-- ---------------------------------------------------------------------------------------------------------

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function done(summary, latency, requests)
  local errors = summary.errors
  local file = assert(io.open(assert(os.getenv("BENCH_RESULT")), "w"))
  file:write(string.format(
    '{"duration_us": %d, "requests": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, '
      .. '"timeout": %d}}',
    summary.duration, summary.requests, errors.connect, errors.read, errors.write, errors.status, errors.timeout
  ))
  file:close()
end
