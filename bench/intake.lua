-- wrk script for bench/intake.py: send pre-signed requests, each once, and count what the
-- hub says it stored.
--
-- The file named after `--` (then the number of threads) holds one request a line: method
-- and path, then headers as "Name: value", then the body, separated by tabs. Thread i of n
-- sends lines i, i+n, i+2n, ... in order; one that runs out starts again (and says so: the
-- bench then treats the run as invalid, since the repeats are duplicates).
-- A HubSpot answer says how many events it stored; a Xero 200 (empty body) counts as one.

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local count, thread_count = 0, tonumber(args[2])
  requests, next_request = {}, 1
  sent, wrapped, stored, duplicates, ok = 0, 0, 0, 0, 0
  for line in io.lines(args[1]) do
    if count % thread_count == index then
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do
        table.insert(fields, field)
      end
      local headers = {["Content-Type"] = "application/json"}
      for i = 2, #fields - 1 do
        local name, value = string.match(fields[i], "^([^:]+): (.*)$")
        headers[name] = value
      end
      local method, path = string.match(fields[1], "^(%u+) (.*)$")
      local body = #fields > 1 and fields[#fields] or nil
      table.insert(requests, wrk.format(method, path, headers, body))
    end
    count = count + 1
  end
end

function request()
  if next_request > #requests then
    next_request, wrapped = 1, wrapped + 1
  end
  local r = requests[next_request]
  next_request, sent = next_request + 1, sent + 1
  return r
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    local new, again = string.match(body, '"stored": (%d+), "duplicates": (%d+)')
    if new then
      stored, duplicates = stored + tonumber(new), duplicates + tonumber(again)
    else
      stored = stored + 1
    end
  end
end

function done(summary, latency, _)
  local totals = {sent = 0, wrapped = 0, stored = 0, duplicates = 0, ok = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.6f, "p50_ms": %.3f, "p99_ms": %.3f, '
      .. '"ok": %d, "stored": %d, "duplicates": %d, "sent": %d, "wrapped": %d, '
      .. '"errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, totals.ok, totals.stored, totals.duplicates, totals.sent,
    totals.wrapped, errors.connect + errors.read + errors.write + errors.timeout,
    errors.status))
end
