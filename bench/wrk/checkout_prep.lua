-- Prepare carts for the checkout benchmark the way a shopper does: open a product page (the same for every
-- visitor: no session, no token), add one unit to the cart (the session starts there), open the checkout
-- page (its CSRF token, hidden checkout key and subtotal).
-- Each client keeps preparing carts until wrk's -d runs out, appending each to BENCH_OUT/carts-<id>.tsv.
--
-- BENCH_PRODUCTS: "slug:variant_id slug:variant_id …" (sellable variants to pick from at random)

dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local out_dir = assert(os.getenv("BENCH_OUT"))
local products = {}
local out = nil
local step, started, cookie, product = "product", 0, nil, nil
local failures = 0

function init(args)
  for _, entry in ipairs(split(os.getenv("BENCH_PRODUCTS"), " ")) do
    local slug, variant = string.match(entry, "^([^:]+):(%d+)$")
    products[#products + 1] = { slug = slug, variant = variant }
  end
  math.randomseed(id * 7919 + os.time())
  out = assert(io.open(out_dir .. "/carts-" .. tostring(id) .. ".tsv", "w"))
end

local function start_over(why)
  failures = failures + 1
  note_problem(why)
  step, cookie = "product", nil
  if failures > 20 then
    finish()
  end
end

function request()
  if finished then
    return filler_request()
  end
  started = now_us()
  if step == "product" then
    product = products[math.random(#products)]
    return wrk.format("GET", "/p/" .. product.slug, {})
  elseif step == "add" then
    local body = form({ { "variant_id", product.variant }, { "quantity", "1" } })
    return wrk.format("POST", "/cart/add", { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
  end
  return wrk.format("GET", "/checkout", { ["Cookie"] = cookie })
end

function response(status, headers, body)
  if finished then
    return
  end
  record(step, started, status)
  if step == "product" then
    if status ~= 200 then
      return start_over("product page: " .. status)
    end
    step = "add"
  elseif step == "add" then
    cookie = session_cookie(headers, nil)
    if (status ~= 302 and status ~= 303) or not cookie then
      return start_over("add to cart: " .. status)
    end
    step = "checkout_page"
  else
    cookie = session_cookie(headers, cookie)
    local key = hidden_value(body, "checkout_key")
    local subtotal = hidden_value(body, "expected_subtotal")
    local token = hidden_value(body, "csrf_token")
    if status ~= 200 or not key or key == "" or not token then
      return start_over("checkout page: " .. status)
    end
    out:write(table.concat({ cookie, token, key, subtotal or "" }, "\t"), "\n")
    out:flush() -- the run ends when wrk's -d runs out, with no chance to close the file
    step = "product"
  end
end
