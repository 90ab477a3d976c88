--[[
  Hands the best ready missions to the orchestrator: moves up to ARGV[1] missions from the ready
  queue to the leased set (score = lease deadline) and writes them, with their state, as one
  `missions.leased` message on the orchestrator's stream - in one step, so a crash cannot lose a
  mission between the queue and the message. An empty queue still gets a reply (no missions), so
  the orchestrator knows its request was answered.

  KEYS[1] ready zset (score = enqueued at ms - head start ms; lowest first)
  KEYS[2] leased zset (score = lease deadline, ms)
  KEYS[3] orchestrator stream
  KEYS[4] counters hash
  KEYS[5] ready-since zset (member id, score = enqueued at)
  KEYS[6] ready-by-level hash
  KEYS[7] per-minute counters hash

  ARGV[1] how many missions at most
  ARGV[2] lease deadline (ms)
  ARGV[3] mission hash key prefix (missions share the queue's hash tag)
  ARGV[4] request id, echoed in the message
  ARGV[5] per-minute field for the dequeued count (d:<minute>)

  Result: number of missions leased
]]
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local states = {}
for i, id in ipairs(ids) do
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  local state = redis.call('HMGET', ARGV[3] .. id, 's', 'pl')
  states[i] = state[1]
  if state[2] then redis.call('HINCRBY', KEYS[6], state[2], -1) end
end
if #ids > 0 then
  redis.call('ZREM', KEYS[1], unpack(ids))
  redis.call('ZREM', KEYS[5], unpack(ids))
  redis.call('HINCRBY', KEYS[4], 'dequeued', #ids)
  redis.call('HINCRBY', KEYS[7], ARGV[5], #ids)
end
local data = '{"requestId":' .. cjson.encode(ARGV[4]) .. ',"leaseUntil":' .. ARGV[2] .. ',"missions":[' .. table.concat(states, ',') .. ']}'
redis.call('XADD', KEYS[3], '*', 'pattern', 'missions.leased', 'data', data)
return #ids
