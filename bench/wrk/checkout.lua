-- The checkout: POST /checkout with a prepared cart (303 to the handoff page), then GET the handoff page.
-- Timed as "checkout_post", "handoff" and "checkout" (the POST sent → the handoff page received).
-- Each client uses its own carts from BENCH_CARTS_DIR/carts-<id>.tsv and finishes when they run out.
-- With BENCH_RATE, checkouts start at that fixed rate (see common.lua) and are timed from when they were due.

dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local carts = {}
local next_cart = 1
local step, post_started, started, cookie, location = "post", 0, 0, nil, nil
local run_tag = os.getenv("BENCH_RUN_TAG") or "0"

local carts_dir = assert(os.getenv("BENCH_CARTS_DIR"))
local position_path = nil

function init(args)
  local file = io.open(carts_dir .. "/carts-" .. tostring(id) .. ".tsv", "r")
  if file then
    for line in file:lines() do
      local fields = split(line, "\t")
      carts[#carts + 1] = { cookie = fields[1], csrf = fields[2], key = fields[3], subtotal = fields[4] or "" }
    end
    file:close()
  end
  -- Rounds of this script share the carts: each client carries on where its previous round stopped.
  position_path = carts_dir .. "/position-" .. tostring(id)
  local saved = io.open(position_path, "r")
  if saved then
    next_cart = tonumber(saved:read("*l")) or 1
    saved:close()
  end
end

local function remember_position(position)
  local file = io.open(position_path, "w")
  if file then
    file:write(tostring(position), "\n")
    file:close()
  end
end

local function phone_number(n)
  -- Indian mobile numbers, distinct per client and cart: +91 98 then 8 digits.
  return string.format("+9198%08d", (id * 1000000 + n) % 100000000)
end

if paced() then -- defined only when paced: wrk then waits on a timer before every request
  function delay()
    if step == "post" and not finished and not opening_pending() then
      return paced_delay()
    end
    return 0
  end
end

function request()
  local opening = opening_request()
  if opening then
    return opening
  end
  if step == "post" and carts[next_cart] == nil then
    finish()
  end
  if finished then
    return filler_request()
  end
  started = now_us()
  if step == "handoff" then
    return wrk.format("GET", location, { ["Cookie"] = cookie })
  end
  local cart = carts[next_cart]
  remember_position(next_cart + 1) -- sent is used, answered or not
  cookie = cart.cookie
  post_started = operation_start()
  started = post_started
  local body = form({
    { "csrf_token", cart.csrf },
    { "checkout_key", cart.key },
    { "expected_subtotal", cart.subtotal },
    { "name", "Bench Shopper " .. run_tag .. "-" .. id .. "-" .. next_cart },
    { "phone", phone_number(next_cart) },
    { "fulfilment", "delivery" },
    { "address", "Flat 4B, Sea View Apartments, Linking Road, Bandra West, Mumbai 400050" },
    { "payment_method", "cod" },
    { "note", "" },
  })
  return wrk.format("POST", "/checkout", {
    ["Cookie"] = cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

function response(status, headers, body)
  if opening_answered() or finished then
    return
  end
  if step == "post" then
    record("checkout_post", started, status)
    location = path_of(header(headers, "Location"))
    cookie = session_cookie(headers, cookie)
    if status == 303 and location then
      step = "handoff"
    else
      note_problem("checkout POST answered " .. status .. ": " .. string.sub(body or "", 1, 200))
      next_cart = next_cart + 1
    end
    return
  end
  record("handoff", started, status)
  if status == 200 then
    record("checkout", post_started, status)
  else
    note_problem("handoff page answered " .. status)
  end
  step = "post"
  next_cart = next_cart + 1
end
