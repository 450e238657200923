-- wrk script for scripts/bench-serve.sh: GET /pins/{requestid}, round robin over many accounts.
-- Argument: a file of "<token> <requestid>" lines (serve_seed_repo's small.tokens). Each account
-- owns one pin; spreading the load over many accounts keeps every account under the API's
-- per-account rate limit (50/s, burst 200) so that every response is a 200. nginx gets the same
-- requests (it ignores the Authorization header and serves the same bytes from a file).
local requests = {}
local next_index = 1

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
end

function init(args)
  for line in io.lines(args[1]) do
    local token, id = line:match("^(%S+)%s+(%S+)$")
    if token then
      requests[#requests + 1] =
        wrk.format("GET", "/pins/" .. id, { ["Authorization"] = "Bearer " .. token })
    end
  end
  assert(#requests > 0, "no tokens in " .. args[1])
  -- Threads start at different accounts.
  next_index = ((thread_number or 1) - 1) * 997 % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end
