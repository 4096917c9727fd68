-- wrk script for bench_edge.py: cycles through pre-built, correctly signed raw HTTP requests
-- (the file named by WRK_REQUESTS, requests separated by NUL bytes), so every request is distinct
-- and the load generator spends no CPU on JSON or signatures while it measures.
local requests = {}
local i = 0

function init(args)
  local f = assert(io.open(os.getenv("WRK_REQUESTS"), "rb"))
  local data = f:read("*a")
  f:close()
  for r in string.gmatch(data, "([^%z]+)") do
    requests[#requests + 1] = r
  end
  assert(#requests > 0, "no requests in " .. os.getenv("WRK_REQUESTS"))
end

function request()
  i = i % #requests + 1
  return requests[i]
end

function done(summary, latency, requests_)
  -- one machine-readable line for bench_edge.py
  io.write(string.format("WRK_RESULT requests=%d seconds=%.3f non2xx=%d errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
