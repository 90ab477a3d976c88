--[[
  Removes consumers from a service's consumer group that hold no pending message and have been
  idle at least ARGV[2] ms: those of instances that stopped (every instance is a consumer of its
  own, so without this they would stay in the group forever). A consumer that holds pending
  messages is kept: deleting it would drop them from the group's pending list, and nobody would
  retry them. Once another instance has reclaimed them (XAUTOCLAIM) it holds none and goes on a
  later sweep. Looked at and removed in one step, so a message delivered in between cannot be lost
  with its consumer. A live consumer removed while idle is created again by its next read.

  KEYS[1] the service stream
  ARGV[1] the consumer group
  ARGV[2] minimum idle time, ms
  ARGV[3] '' to look at every consumer, or the name of the one to look at (an instance leaving)

  Result: the number of consumers removed
]]

local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
-- No stream or no group (a Redis restart): nothing to remove.
if not ok then consumers = {} end

local minIdle = tonumber(ARGV[2])
local removed = 0
for _, flat in ipairs(consumers) do
  local consumer = {}
  for i = 1, #flat, 2 do consumer[flat[i]] = flat[i + 1] end
  if (ARGV[3] == '' or consumer.name == ARGV[3]) and tonumber(consumer.pending) == 0 and tonumber(consumer.idle) >= minIdle then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], consumer.name)
    removed = removed + 1
  end
end
return removed
