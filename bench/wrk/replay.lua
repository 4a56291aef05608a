-- Prepared requests, sent as fast as each client gets its answers: the harness builds and signs them in
-- Python (bench/requests_file.py), each client replays its own file, BENCH_REQUESTS_DIR/requests-<id>.tsv,
-- then finishes. One request per line, fields separated by tabs:
--   label  expected status  method  path  headers ("Name: value" joined by \x1f)  body (no tab, no newline)
-- Each answer is timed under its label; an answer other than the expected status is noted as a problem.

dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local prepared = {}
local next_request = 1
local current, started = nil, 0
local requests_dir = assert(os.getenv("BENCH_REQUESTS_DIR"))

function init(args)
  local file = io.open(requests_dir .. "/requests-" .. tostring(id) .. ".tsv", "r")
  if file then
    for line in file:lines() do
      local label, expect, method, path, headers, body = string.match(line, "^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      if label then
        local parsed = {}
        for pair in string.gmatch(headers, "[^\31]+") do
          local name, value = string.match(pair, "^([^:]+):%s*(.*)$")
          if name then
            parsed[name] = value
          end
        end
        prepared[#prepared + 1] = { label = label, expect = tonumber(expect), method = method, path = path,
                                    headers = parsed, body = body }
      end
    end
    file:close()
  end
end

function request()
  -- wrk calls request() again when a connection failed before the answer: send the same request again
  -- (the server's deduplication is part of what is measured), never skip one.
  if current == nil and prepared[next_request] == nil then
    finish()
  end
  if finished then
    return filler_request()
  end
  if current == nil then
    current = prepared[next_request]
    next_request = next_request + 1
  end
  started = now_us()
  return wrk.format(current.method, current.path, current.headers, current.body ~= "" and current.body or nil)
end

function response(status, headers, body)
  if finished or current == nil then
    return
  end
  record(current.label, started, status)
  if status ~= current.expect then
    note_problem(current.label .. " answered " .. status .. ": " .. string.sub(body or "", 1, 200))
  end
  current = nil
  if prepared[next_request] == nil then
    finish()
  end
end
