-- wrk script: replays DeleteJobExecution requests pre-signed by `iotjobs-fake-iot --presign`
-- (file named by $PRESIGNED; lines "METHOD<TAB>PATH<TAB>X-Amz-Date<TAB>Authorization").
-- Every request carries a valid SigV4 signature, so the fake server verifies each one for real.
-- The list is cycled; once every execution has been deleted the fake answers 404 (still verified).
local reqs = {}
local n = 0
local i = 0

init = function(args)
  local path = os.getenv("PRESIGNED")
  local f = assert(io.open(path, "r"), "PRESIGNED file missing")
  for line in f:lines() do
    local method, p, date, auth = line:match("^(%S+)\t(%S+)\t(%S+)\t(.+)$")
    if method then
      n = n + 1
      reqs[n] = wrk.format(method, p, { ["X-Amz-Date"] = date, ["Authorization"] = auth,
                                        ["User-Agent"] = "wrk-presigned/1" })
    end
  end
  f:close()
  assert(n > 0, "no presigned requests")
end

request = function()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrk-summary requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
