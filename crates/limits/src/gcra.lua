-- GCRA for faro-limits, mirroring crates/limits/src/gcra.rs (`decide`) line for line.
--
-- KEYS[1]  the client's key; its value is the theoretical arrival time (TAT), microseconds
-- ARGV[1]  emission interval, microseconds (>= 1)
-- ARGV[2]  burst tolerance = interval * count, microseconds
-- ARGV[3]  penalty, microseconds: 0 for none (see `check_boxed` in gcra.rs)
-- ARGV[4]  weight: how many requests this call counts (all allowed or none)
-- ARGV[5]  optional "now" in microseconds; only tests pass it, to replay exact timelines
-- KEYS[2]  with a penalty: the key holding the end of the client's box, microseconds
--
-- Returns {allowed (0|1), remaining, reset_after_us, retry_after_us}.
--
-- The clock is the Redis server's, so instances whose own clocks disagree still share one
-- timeline. All values stay below 2^53, so Lua's doubles hold them exactly.

-- Redis < 5 must be told to replicate effects (the SET) rather than this script, which reads
-- the clock; later versions do so by default and keep the call as a no-op.
if redis.replicate_commands then
  redis.replicate_commands()
end

local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local penalty = tonumber(ARGV[3]) or 0
local weight = math.max(tonumber(ARGV[4]) or 1, 1)

local now
if ARGV[5] then
  now = tonumber(ARGV[5])
else
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end

-- In the box: refused for the rest of it, nothing written.
if penalty > 0 then
  local boxed_until = tonumber(redis.call('GET', KEYS[2]))
  if boxed_until ~= nil and boxed_until > now then
    return {0, 0, boxed_until - now, boxed_until - now}
  end
end

-- A missing, expired or unreadable value all mean a full bucket.
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end

local new_tat = tat + interval * weight
local horizon = now + tolerance
if new_tat > horizon then
  if penalty > 0 then
    -- The first refusal closes the box; its key expires when the box opens.
    redis.call('SET', KEYS[2], string.format('%.0f', now + penalty), 'PX', math.ceil(penalty / 1000))
    return {0, 0, penalty, penalty}
  end
  -- Refused: nothing is written, so retrying early does not push the client further out.
  return {0, 0, tat - now, new_tat - horizon}
end

local reset_after = new_tat - now
-- The key lives exactly as long as it carries information, which bounds Redis memory by the
-- number of clients active within one period. '%.0f' keeps all digits (no exponent form).
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil(reset_after / 1000))
return {1, math.floor((horizon - new_tat) / interval), reset_after, 0}
