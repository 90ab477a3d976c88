--[[
  Claims one slot of an agent for each mission about to be assigned to it, only while the agent
  has room. A claim is a hold named after the mission attempt and the agent, so a retried claim
  confirms the slot it already holds instead of taking a second one; the confirming claim writes
  its own claim id into the hold, so that only it may give the slot back. An attempt that already
  ended (its release was processed) cannot be claimed again: a stale lease would otherwise hold a
  slot that no release will ever free.

  KEYS[1] load hash (agent id -> slots held)
  KEYS[2] capacity hash (agent id -> slots)
  KEYS[3] holds hash (hold id -> hold JSON {agentId, missionId, attempt, at, claimId})
  KEYS[4] last-assigned hash (agent id -> ms), read by the ranking

  ARGV[1] now (ms)
  ARGV[2] key prefix of the ended markers (<prefix><hold id>, same hash tag)
  ARGV[3..] pairs: hold id, hold JSON

  Result: one code per pair, from CODE (ClaimCode in agent-slots.ts)
    Claimed      a slot was taken
    AlreadyHeld  the hold existed; it now carries this claim (its time refreshed, so it is not taken for an orphan)
    AgentFull    the agent has no room; nothing changed
    Ended        the attempt already ended on this agent; nothing changed
]]
local results = {}
for i = 3, #ARGV, 2 do
  local holdId = ARGV[i]
  local agentId = cjson.decode(ARGV[i + 1])['agentId']
  if redis.call('EXISTS', ARGV[2] .. holdId) == 1 then
    results[#results + 1] = CODE.Ended
  elseif redis.call('HEXISTS', KEYS[3], holdId) == 1 then
    redis.call('HSET', KEYS[3], holdId, ARGV[i + 1])
    results[#results + 1] = CODE.AlreadyHeld
  else
    local load = tonumber(redis.call('HGET', KEYS[1], agentId) or '0')
    local capacity = tonumber(redis.call('HGET', KEYS[2], agentId) or '0')
    if load >= capacity then
      results[#results + 1] = CODE.AgentFull
    else
      redis.call('HINCRBY', KEYS[1], agentId, 1)
      redis.call('HSET', KEYS[3], holdId, ARGV[i + 1])
      redis.call('HSET', KEYS[4], agentId, ARGV[1])
      results[#results + 1] = CODE.Claimed
    end
  end
end
return results
