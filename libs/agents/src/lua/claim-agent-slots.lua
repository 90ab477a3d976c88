--[[
  Claims one slot of an agent for each mission about to be assigned to it, only while the agent
  has room. A claim is a hold named after the mission attempt and the agent, so a retried claim
  confirms the slot it already holds instead of taking a second one.

  KEYS[1] load hash (agent id -> slots held)
  KEYS[2] capacity hash (agent id -> slots)
  KEYS[3] holds hash (hold id -> hold JSON {agentId, missionId, attempt, at})
  KEYS[4] last-assigned hash (agent id -> ms), read by the ranking

  ARGV[1] now (ms)
  ARGV[2..] pairs: hold id, hold JSON (its "at" is ARGV[1])

  Result: one code per pair
    0 CLAIMED       a slot was taken
    1 ALREADY_HELD  the hold existed; its time is refreshed so it is not taken for an orphan
    2 AGENT_FULL    the agent has no room; nothing changed
]]
local results = {}
for i = 2, #ARGV, 2 do
  local holdId = ARGV[i]
  local hold = cjson.decode(ARGV[i + 1])
  local agentId = hold['agentId']
  if redis.call('HEXISTS', KEYS[3], holdId) == 1 then
    redis.call('HSET', KEYS[3], holdId, ARGV[i + 1])
    results[#results + 1] = 1
  else
    local load = tonumber(redis.call('HGET', KEYS[1], agentId) or '0')
    local capacity = tonumber(redis.call('HGET', KEYS[2], agentId) or '0')
    if load >= capacity then
      results[#results + 1] = 2
    else
      redis.call('HINCRBY', KEYS[1], agentId, 1)
      redis.call('HSET', KEYS[3], holdId, ARGV[i + 1])
      redis.call('HSET', KEYS[4], agentId, ARGV[1])
      results[#results + 1] = 0
    end
  end
end
return results
