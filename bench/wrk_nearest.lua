-- wrk script: each request asks /api/v1/stations/nearest at the next of the exported
-- query points (paths.txt, one path per line, written by run.sh), round robin.
local paths = {}
for line in io.lines(os.getenv("YZ_PATHS")) do
  paths[#paths + 1] = line
end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
-- wrk reports latency percentiles with --latency; errors are non-2xx + socket errors.
done = function(summary, latency, requests)
  io.write(string.format("WRK requests %d duration_s %.3f non2xx %d errors %d p50_ms %.3f p99_ms %.3f\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
