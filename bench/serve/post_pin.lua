-- wrk script for scripts/bench-serve.sh: POST /pins with a new CID in every request.
-- Arguments: a file of "<token> <requestid>" lines (the tokens are used, round robin, so each
-- account stays under the API's per-account rate limit) and a nonce that makes this run's CIDs
-- differ from earlier runs'. The CIDs are CIDv1 raw identity CIDs (the block is the CID), so the
-- pin workers finish them without fetching anything.
local tokens = {}
local next_index = 1
local sequence = 0
local prefix = ""

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
end

local alphabet = "abcdefghijklmnopqrstuvwxyz234567"

-- RFC 4648 base32, lower case, no padding (multibase 'b').
local function base32(bytes)
  local out = {}
  local buffer, bits = 0, 0
  for i = 1, #bytes do
    buffer = buffer * 256 + bytes:byte(i)
    bits = bits + 8
    while bits >= 5 do
      bits = bits - 5
      local index = math.floor(buffer / 2 ^ bits)
      buffer = buffer - index * 2 ^ bits
      out[#out + 1] = alphabet:sub(index + 1, index + 1)
    end
  end
  if bits > 0 then
    local index = buffer * 2 ^ (5 - bits)
    out[#out + 1] = alphabet:sub(index + 1, index + 1)
  end
  return table.concat(out)
end

function init(args)
  for line in io.lines(args[1]) do
    local token = line:match("^(%S+)")
    if token then tokens[#tokens + 1] = "Bearer " .. token end
  end
  assert(#tokens > 0, "no tokens in " .. args[1])
  prefix = string.format("bench-%s-t%d-", args[2] or "0", thread_number or 1)
  next_index = ((thread_number or 1) - 1) * 997 % #tokens + 1
end

function request()
  sequence = sequence + 1
  local payload = prefix .. sequence
  -- CIDv1 (0x01), raw (0x55), identity multihash (0x00, length).
  local cid = "b" .. base32(string.char(0x01, 0x55, 0x00, #payload) .. payload)
  local token = tokens[next_index]
  next_index = next_index % #tokens + 1
  return wrk.format("POST", "/pins",
                    { ["Authorization"] = token, ["Content-Type"] = "application/json" },
                    '{"cid":"' .. cid .. '","name":"' .. payload .. '"}')
end
