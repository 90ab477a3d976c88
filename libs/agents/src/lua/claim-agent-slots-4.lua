--[[
  Claims one slot of an agent for each mission about to be assigned to it, only while the agent
  has room. A claim is a hold named after the mission attempt and the agent, so a retried claim
  confirms the slot it already holds instead of taking a second one; the confirming claim writes
  its own claim id into the hold, so that only it may give the slot back. An attempt that already
  ended (its release was processed) cannot be claimed again: a stale lease would otherwise hold a
  slot that no release will ever free.

  KEYS[1] load hash (agent id -> slots held)
  KEYS[2] capacity hash (agent id -> slots)
  KEYS[3] holds hash (hold id -> hold JSON {agentId, missionId, attempt, at, claimId}, written here)
  KEYS[4] last-assigned hash (agent id -> ms), read by the ranking

  ARGV[1] now (ms); '' = Redis's clock (TIME): a hold's time is then the same clock for every
          orchestrator, whichever claimed it and whichever reaper ages it
  ARGV[2] key prefix of the ended markers (<prefix><hold id>, same hash tag)
  ARGV[3..] per hold, five values: hold id, agent id, mission id, attempt, claim id

  Result: per hold, two values: a code from CODE (ClaimCode in agent-slots.ts), and the hold JSON
  this claim wrote ('' when it wrote none)
    Claimed      a slot was taken
    AlreadyHeld  the hold existed; it now carries this claim (its time refreshed, so it is not taken for an orphan)
    AgentFull    the agent has no room; nothing changed
    Ended        the attempt already ended on this agent; nothing changed
]]
--- @include "@redis/includes/redis-clock"
--- @include "includes/agent-hold"

local now = ARGV[1] ~= '' and tonumber(ARGV[1]) or redisNowMs()
local results = {}
for i = 3, #ARGV, 5 do
  local holdId, agentId, hold = holdAt(i, now)
  local code, written = nil, ''
  if redis.call('EXISTS', ARGV[2] .. holdId) == 1 then
    code = CODE.Ended
  elseif redis.call('HEXISTS', KEYS[3], holdId) == 1 then
    redis.call('HSET', KEYS[3], holdId, hold)
    code, written = CODE.AlreadyHeld, hold
  else
    local load = tonumber(redis.call('HGET', KEYS[1], agentId) or '0')
    local capacity = tonumber(redis.call('HGET', KEYS[2], agentId) or '0')
    if load >= capacity then
      code = CODE.AgentFull
    else
      redis.call('HINCRBY', KEYS[1], agentId, 1)
      redis.call('HSET', KEYS[3], holdId, hold)
      redis.call('HSET', KEYS[4], agentId, now)
      code, written = CODE.Claimed, hold
    end
  end
  results[#results + 1] = code
  results[#results + 1] = written
end
return results
