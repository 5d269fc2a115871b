---- fixed part (emit verbatim) ----------------------------------------------
-- redirc's HAProxy helper (HAProxy >= 2.6 built with Lua 5.3, as Debian's).
-- The lines above this part set CASE_INSENSITIVE and TRAILING_SLASH_IGNORE.
-- It registers the action `lua.redir_prepare`, which reads the raw request
-- target and the Host header and sets the ASCII-only variables of
-- doc/backend-design.md section 2 (the map and regex work stays in HAProxy):
--   txn.redir_key   KEY(NORM(path))            (exact map, global layer)
--   txn.redir_hkey  HOST .. KEY(NORM(path))    (exact map, host layer)
--   txn.redir_s     encP(p) .. " " .. encQ(p) .. " " .. HOST  (pattern map)
--   txn.redir_qa    "?" .. encRawQuery(q), txn.redir_qamp "&" .. encRawQuery(q)
--   txn.redir_host  HOST                       (wildcard host blocks: class, :subdomain)
-- A variable whose value would be empty is not set (HAProxy prints an unset
-- variable as an empty string; an unset key is not looked up).
local byte, char, format = string.byte, string.char, string.format

-- class bits: 1 = kept in a path capture, 2 = kept in a query capture,
--             4 = kept in the appended raw query
local CLS = {}
for c = 0, 255 do CLS[c] = 0 end
do
  local s = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*,;:@/"
  for i = 1, #s do CLS[byte(s, i)] = 7 end
  CLS[0x26] = 5; CLS[0x3d] = 5; CLS[0x2b] = 5   -- & = + : not in a query capture
  CLS[0x3f] = 4                                 -- ? : only in the appended query
end
local PCT = {}
for c = 0, 255 do PCT[c] = format("%%%02X", c) end

local function ishex(c)
  return c and ((c >= 0x30 and c <= 0x39) or (c >= 0x41 and c <= 0x46) or (c >= 0x61 and c <= 0x66))
end

-- s: byte string; bit: 1 path, 2 query capture; upper: also escape A-Z
local function enc(s, bit, upper)
  local out = {}
  for i = 1, #s do
    local c = byte(s, i)
    if (CLS[c] & bit) ~= 0 and not (upper and c >= 0x41 and c <= 0x5a) then
      out[#out + 1] = char(c)
    else
      out[#out + 1] = PCT[c]
    end
  end
  return table.concat(out)
end

local function enc_query(s)
  local out = {}
  for i = 1, #s do
    local c = byte(s, i)
    if (CLS[c] & 4) ~= 0 then
      out[#out + 1] = char(c)
    elseif c == 0x25 and ishex(byte(s, i + 1)) and ishex(byte(s, i + 2)) then
      out[#out + 1] = "%"
    else
      out[#out + 1] = PCT[c]
    end
  end
  return table.concat(out)
end

-- spec 3 steps 1-4; returns the normalized path (byte string) or nil
local function normalize(raw)
  -- 1. decode (invalid escape: nil)  2. merge runs of "/"
  local dec, n, i = {}, #raw, 1
  while i <= n do
    local c = byte(raw, i)
    if c == 0x25 then
      local h1, h2 = byte(raw, i + 1), byte(raw, i + 2)
      if not (ishex(h1) and ishex(h2)) then return nil end
      c = tonumber(char(h1, h2), 16)
      i = i + 2
    end
    if not (c == 0x2f and dec[#dec] == 0x2f) then dec[#dec + 1] = c end
    i = i + 1
  end
  if dec[1] ~= 0x2f then return nil end
  local parts = {}
  for j = 1, #dec, 7000 do parts[#parts + 1] = char(table.unpack(dec, j, math.min(j + 6999, #dec))) end
  local path = table.concat(parts)
  -- 3. remove dot segments (RFC 3986 5.2.4)
  local segs = {}
  for seg in (path:sub(2) .. "/"):gmatch("([^/]*)/") do segs[#segs + 1] = seg end
  local out = {}
  for j = 1, #segs do
    local s = segs[j]
    if s == "." or s == ".." then
      if s == ".." and #out > 0 then out[#out] = nil end
      if j == #segs then out[#out + 1] = "" end
    else
      out[#out + 1] = s
    end
  end
  local p = "/" .. table.concat(out, "/")
  -- 4. trailing slash
  if TRAILING_SLASH_IGNORE and #p > 1 and p:sub(-1) == "/" then p = p:sub(1, -2) end
  return p
end

local function setv(txn, name, value)
  if value ~= "" then txn:set_var(name, value) end
end

core.register_action("redir_prepare", { "http-req" }, function(txn)
  local target = txn.f:url() or ""
  local host = txn.f:req_fhdr("host") or ""
  -- absolute-form request target: its authority is the host
  local auth, rest = target:match("^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)(.*)$")
  if auth then
    host = auth:gsub("^.*@", "")
    target = rest
    if target:sub(1, 1) ~= "/" then target = "/" .. target end
  end
  target = target:gsub("#.*$", "")
  local path, query = target:match("^([^?]*)%?(.*)$")
  if not path then path, query = target, "" end
  -- host: lower-case, port and one trailing dot stripped
  host = host:lower()
  if host:sub(1, 1) == "[" then host = host:match("^(%[[^%]]*%])") or host
  else host = host:gsub(":.*$", "") end
  host = host:gsub("%.$", "")
  host = enc(host, 1, false)
  setv(txn, "txn.redir_host", host)
  if query ~= "" then
    local q = enc_query(query)
    setv(txn, "txn.redir_qa", "?" .. q)
    setv(txn, "txn.redir_qamp", "&" .. q)
  end
  local p = normalize(path)
  if not p then return end
  local k = p
  if CASE_INSENSITIVE then k = p:gsub("[A-Z]", string.lower) end
  k = enc(k, 1, not CASE_INSENSITIVE)
  setv(txn, "txn.redir_key", k)
  if host ~= "" then setv(txn, "txn.redir_hkey", host .. k) end
  setv(txn, "txn.redir_s", enc(p, 1, false) .. " " .. enc(p, 2, false) .. " " .. host)
end)
