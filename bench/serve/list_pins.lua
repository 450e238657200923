-- wrk script for scripts/bench-serve.sh: GET /pins pages of the account holding 1M pins.
-- Arguments: token, query kind, oldest and newest `created` (µs) of the account's pins, a CID of
-- the account, and the pause between requests in ms. Kinds:
--   first     ?limit=10 (no filter: pinned pins, newest first)
--   before    ?limit=10&before=<random time within the account's pins> (a page deep in the list)
--   status    ?limit=10&status=queued,pinning,pinned,failed&before=<random>
--   name      ?limit=10&name=file-<random 0..999>&before=<random>
--   meta      ?limit=10&meta={"app":"bench"}&before=<random>
--   cid       ?limit=10&cid=<the CID>
-- One account is limited to 50 requests/s by the API's rate limiter (burst 200), so the script
-- paces itself (wrk's delay()) to stay under it: this measures the latency of one page, not the
-- throughput of many.
local token, kind, oldest, newest, cid, pause

function init(args)
  token = "Bearer " .. args[1]
  kind = args[2]
  oldest = tonumber(args[3])
  newest = tonumber(args[4])
  cid = args[5]
  pause = tonumber(args[6] or "25")
  math.randomseed(os.time())
end

local function rfc3339(micros)
  local seconds = math.floor(micros / 1000000)
  local fraction = micros - seconds * 1000000
  return os.date("!%Y-%m-%dT%H:%M:%S", seconds) .. string.format(".%06dZ", fraction)
end

local function random_before()
  return rfc3339(oldest + math.floor(math.random() * (newest - oldest)))
end

function request()
  local query
  if kind == "first" then
    query = "limit=10"
  elseif kind == "before" then
    query = "limit=10&before=" .. random_before()
  elseif kind == "status" then
    query = "limit=10&status=queued,pinning,pinned,failed&before=" .. random_before()
  elseif kind == "name" then
    query = "limit=10&name=file-" .. math.random(0, 999) .. "&before=" .. random_before()
  elseif kind == "meta" then
    query = "limit=10&meta=%7B%22app%22%3A%22bench%22%7D&before=" .. random_before()
  elseif kind == "cid" then
    query = "limit=10&cid=" .. cid
  else
    error("unknown kind " .. tostring(kind))
  end
  return wrk.format("GET", "/pins?" .. query, { ["Authorization"] = token })
end

function delay()
  return pause
end
