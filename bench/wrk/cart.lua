-- Server carts: each client opens a product page once (the same page for every visitor: no cookie, no token),
-- adds an item (POST /cart/add needs no token and starts the session), opens the cart once for the token its
-- forms carry, then adds an item and sets a line's quantity (POST /cart/update) in turn, as the storefront's htmx does
-- (HX-Request: the answer is the fragment, not a redirect). Timed as "cart_add" and "cart_update".
--
-- BENCH_PRODUCTS  "slug:variant_id slug:variant_id …" to choose from; each client keeps to three of them, so
--                 its cart holds at most three lines, as a shopper's does (not every variant of the shop)

dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local offered = {}
for _, pair in ipairs(split(os.getenv("BENCH_PRODUCTS") or "", " ")) do
  local slug, variant = string.match(pair, "^([^:]+):(%d+)$")
  if slug then
    offered[#offered + 1] = { slug = slug, variant = variant }
  end
end
local products = {}
local step, cookie, csrf, product, started, failures = "product", nil, nil, nil, 0, 0

function init(args)
  math.randomseed(id * 7919 + os.time())
  for _ = 1, math.min(3, #offered) do
    products[#products + 1] = offered[math.random(#offered)]
  end
end

local function start_over(why)
  failures = failures + 1
  note_problem(why)
  step, cookie, csrf = "product", nil, nil
  if failures > 20 then
    finish()
  end
end

local function post(path, fields)
  return wrk.format("POST", path, {
    ["Cookie"] = cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["HX-Request"] = "true",
  }, form(fields))
end

function request()
  if finished then
    return filler_request()
  end
  started = now_us()
  if step == "product" then
    product = products[math.random(#products)]
    return wrk.format("GET", "/p/" .. product.slug, {})
  elseif step == "cart_add" then
    product = products[math.random(#products)]
    return post("/cart/add", { { "variant_id", product.variant }, { "quantity", "1" } })
  elseif step == "cart_page" then
    return wrk.format("GET", "/cart", { ["Cookie"] = cookie })
  end
  return post("/cart/update", { { "csrf_token", csrf or "" }, { "variant_id", product.variant },
                                { "quantity", tostring(math.random(1, 3)) } })
end

function response(status, headers, body)
  if finished then
    return
  end
  if step == "product" then
    if status ~= 200 then
      return start_over("product page: " .. status)
    end
    step = "cart_add"
    return
  end
  if step == "cart_page" then
    cookie = session_cookie(headers, cookie)  -- the token's secret is kept in the session
    csrf = hidden_value(body, "csrf_token")
    if status ~= 200 or not csrf then
      return start_over("cart page: " .. status)
    end
    step = "cart_update"
    return
  end
  record(step, started, status)
  cookie = session_cookie(headers, cookie)
  if status ~= 200 then
    note_problem(step .. " answered " .. status .. ": " .. string.sub(body or "", 1, 200))
  end
  if step == "cart_add" then
    step = csrf and "cart_update" or "cart_page"
  else
    step = "cart_add"
  end
end
