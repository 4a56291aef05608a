-- GET one path over and over (BENCH_PATH), each answer timed under BENCH_LABEL.
-- Optional BENCH_COOKIE is sent with every request (an admin session, for instance); with BENCH_RATE the
-- requests arrive at that fixed rate (see common.lua).

dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local path = os.getenv("BENCH_PATH") or "/"
local label = os.getenv("BENCH_LABEL") or "get"
local cookie = os.getenv("BENCH_COOKIE")
local expected = tonumber(os.getenv("BENCH_EXPECT") or "200")
local started = 0
local request_text

function init(args)
  local headers = {}
  if cookie and cookie ~= "" then
    headers["Cookie"] = cookie
  end
  request_text = wrk.format("GET", path, headers)
end

if paced() then -- defined only when paced: wrk then waits on a timer before every request
  function delay()
    return opening_pending() and 0 or paced_delay()
  end
end

function request()
  local opening = opening_request()
  if opening then
    return opening
  end
  started = operation_start()
  return request_text
end

function response(status, headers, body)
  if opening_answered() then
    return
  end
  record(label, started, status)
  if status ~= expected then
    note_problem(label .. " answered " .. status)
  end
end
