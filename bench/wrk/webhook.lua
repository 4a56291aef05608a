-- Signed WhatsApp webhooks: POST /webhooks/whatsapp, each a "delivered" status for a unique wamid, signed
-- like Meta signs them (X-Hub-Signature-256: sha256=HMAC-SHA256(app secret, raw body)) with OpenSSL
-- through LuaJIT's FFI (wrk links libcrypto). Timed as "webhook".
--
-- BENCH_APP_SECRET  the app secret the server checks against
-- BENCH_RUN_TAG     makes wamids unique across runs
-- BENCH_BURST       if set: the clients send this many between them, then stop; else until wrk's -d runs out

dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local ffi = require("ffi")
ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *data, size_t data_len,
                    unsigned char *md, unsigned int *md_len);
]]
local crypto = ffi.C
if not pcall(function() return ffi.C.EVP_sha256 end) then
  crypto = ffi.load("libcrypto.so.3")
end

local secret = assert(os.getenv("BENCH_APP_SECRET"))
local run_tag = os.getenv("BENCH_RUN_TAG") or "0"
local burst = tonumber(os.getenv("BENCH_BURST") or "")
local quota = nil
local digest = ffi.new("unsigned char[32]")
local digest_length = ffi.new("unsigned int[1]")
local sent, answered, started = 0, 0, 0  -- wrk may call request() again after a failed write

local function sign(body)
  crypto.HMAC(crypto.EVP_sha256(), secret, #secret, body, #body, digest, digest_length)
  local hex = {}
  for i = 0, digest_length[0] - 1 do
    hex[#hex + 1] = string.format("%02x", digest[i])
  end
  return "sha256=" .. table.concat(hex)
end

local TEMPLATE = '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":'
  .. '{"messaging_product":"whatsapp","metadata":{"display_phone_number":"919876543210",'
  .. '"phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.BENCH%s","status":"delivered",'
  .. '"timestamp":"%d","recipient_id":"9198%08d","conversation":{"id":"CONVERSATION_ID",'
  .. '"origin":{"type":"utility"}},"pricing":{"billable":true,"pricing_model":"PMP","category":"utility"}}]},'
  .. '"field":"messages"}]}]}'

function init(args)
  if burst then
    local clients = tonumber(os.getenv("BENCH_CLIENTS"))
    quota = math.floor(burst / clients) + ((id <= burst % clients) and 1 or 0)
  end
end

function request()
  if quota and answered >= quota then
    finish()
  end
  if finished then
    return filler_request()
  end
  sent = sent + 1
  local unique = run_tag .. "T" .. id .. "N" .. sent
  local body = string.format(TEMPLATE, unique, os.time(), (id * 1000000 + sent) % 100000000)
  started = now_us()
  return wrk.format("POST", "/webhooks/whatsapp", {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = sign(body),
  }, body)
end

function response(status, headers, body)
  if finished then
    return
  end
  record("webhook", started, status)
  if status ~= 200 then
    note_problem("webhook answered " .. status .. ": " .. string.sub(body or "", 1, 200))
  end
  answered = answered + 1
  if quota and answered >= quota then
    finish()
  end
end
