-- tests/bench/wrk-report.lua — wrk script used by scripts/bench.sh.
-- Request: BENCH_METHOD (default GET) and BENCH_BODY (sent with
-- Content-Type: application/json when set), from the environment.
-- Report: one machine-readable line at the end,
--   BENCH reqs=N secs=S rps=R p50_us=A p90_us=B p99_us=C max_us=D
--         err_connect=.. err_read=.. err_write=.. err_timeout=.. non2xx=..
-- (errors.status counts answers >= 400; wrk's own summary is printed too).

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
wrk.method = method
if body and body ~= "" then
	wrk.body = body
	wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	local e = summary.errors
	io.write(string.format(
	    "BENCH reqs=%d secs=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
	    "err_connect=%d err_read=%d err_write=%d err_timeout=%d non2xx=%d\n",
	    summary.requests, secs, summary.requests / secs,
	    latency:percentile(50), latency:percentile(90),
	    latency:percentile(99), latency.max,
	    e.connect, e.read, e.write, e.timeout, e.status))
end
