-- http-get-account.lua — wrk script for bench/http-bench: GET /v1/accounts/{id}
-- with the id drawn uniformly from acc.00000 … acc.NNNNN (the fixtures).
--
--   wrk -t2 -c32 -d15s --latency -s bench/http-get-account.lua http://127.0.0.1:PORT -- 10000 TOKEN
--
-- The arguments after `--`: the number of accounts (default 10,000) and the
-- bearer token every request carries.
-- done() prints one line starting "concord-wrk" that http-bench parses:
-- requests, duration (µs), errors by kind, and latency percentiles (µs).

local threads = {}
local next_thread = 0

function setup(thread)
   thread:set("thread_index", next_thread)
   next_thread = next_thread + 1
   table.insert(threads, thread)
end

local accounts = 10000
local headers = {}

function init(args)
   if args[1] ~= nil then accounts = tonumber(args[1]) end
   if args[2] ~= nil then headers["Authorization"] = "Bearer " .. args[2] end
   -- A different, repeatable sequence per wrk thread.
   math.randomseed(7919 * (thread_index + 1))
end

function request()
   return wrk.format("GET", string.format("/v1/accounts/acc.%05d", math.random(0, accounts - 1)),
                     headers)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "concord-wrk requests=%d duration_us=%d status_errors=%d connect_errors=%d " ..
      "read_errors=%d write_errors=%d timeouts=%d p50_us=%d p90_us=%d p99_us=%d " ..
      "p999_us=%d max_us=%d mean_us=%.1f\n",
      summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
end
