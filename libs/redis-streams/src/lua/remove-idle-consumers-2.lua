--[[
  Records the caller's heartbeat, then removes from a service's consumer group the consumers of
  instances that stopped (every instance is a consumer of its own, so without this they would stay
  in the group forever): those that hold no pending message and whose heartbeat is older than
  ARGV[2] ms, or, with no heartbeat (an instance of a build from before heartbeats), that have been
  idle at least that long. Liveness is the heartbeat, not XINFO's idle: before Redis 7.2 a blocking
  XREADGROUP that returns nothing does not reset a consumer's idle time, so a live instance waiting
  on a quiet stream looks as idle as a stopped one. Heartbeats are Redis' own TIME, so the clocks
  of the instances' hosts do not matter.

  A consumer that holds pending messages is kept: deleting it would drop them from the group's
  pending list, and nobody would retry them. Once another instance has reclaimed them (XAUTOCLAIM)
  it holds none and goes on a later sweep. Looked at and removed in one step, so a message
  delivered in between cannot be lost with its consumer. A removed consumer's heartbeat goes with
  it, and so does a stale one whose consumer is no longer in the group (deleted by hand, or its
  group lost). The caller's consumer is created if it is not in the group: a read that returns
  nothing does not create one, so without this an instance that never got a message, or whose
  consumer was removed while it stalled longer than ARGV[2], would be missing from XINFO CONSUMERS.

  KEYS[1] the service stream
  KEYS[2] the heartbeats of the group's consumers (hash: consumer -> ms, Redis TIME), in KEYS[1]'s slot
  ARGV[1] the consumer group
  ARGV[2] heartbeat age (idle time, for a consumer without one) from which a consumer counts as stopped, ms
  ARGV[3] '' to look at every consumer, or the name of the one to look at (an instance leaving: its
          heartbeat is removed, and its consumer too unless it holds messages; pass ARGV[2] = 0)
  ARGV[4] the consumer whose heartbeat is set to now, and that is created if missing (the caller's), or ''

  Result: the number of consumers removed
]]

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[4], now)
  -- A read that returns nothing creates no consumer: a live instance is in the group from its first sweep on.
  pcall(redis.call, 'XGROUP', 'CREATECONSUMER', KEYS[1], ARGV[1], ARGV[4])
end

local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
-- No stream or no group (a Redis restart): nothing to remove.
if not ok then consumers = {} end

local maxAge = tonumber(ARGV[2])
local only = ARGV[3]
local removed = 0
local inGroup = {}
for _, flat in ipairs(consumers) do
  local consumer = {}
  for i = 1, #flat, 2 do consumer[flat[i]] = flat[i + 1] end
  inGroup[consumer.name] = true
  if (only == '' or consumer.name == only) and tonumber(consumer.pending) == 0 then
    local beat = tonumber(redis.call('HGET', KEYS[2], consumer.name))
    local stopped
    if beat then stopped = now - beat >= maxAge else stopped = tonumber(consumer.idle) >= maxAge end
    if stopped then
      redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], consumer.name)
      redis.call('HDEL', KEYS[2], consumer.name)
      removed = removed + 1
    end
  end
end

if only ~= '' then
  redis.call('HDEL', KEYS[2], only)
else
  local beats = redis.call('HGETALL', KEYS[2])
  for i = 1, #beats, 2 do
    if not inGroup[beats[i]] and now - tonumber(beats[i + 1]) >= maxAge then redis.call('HDEL', KEYS[2], beats[i]) end
  end
end
return removed
