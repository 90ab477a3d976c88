--[[
  Records the slot holds of attempts already in flight that hold none here (an import: the agents'
  slots are not exported), so the orchestrator counts them as it counts its own claims and the end
  of each attempt frees its slot as usual. Unlike a claim, a restored hold takes its slot whatever
  the agent's room: the attempt occupies the agent already, and leaving it out would only let the
  orchestrator assign that agent beyond its capacity. A hold already there is left as it is.

  KEYS[1] load hash (agent id -> slots held)
  KEYS[2] holds hash (hold id -> hold JSON {agentId, missionId, attempt, at, claimId}, as claim-agent-slots-4.lua writes it)

  ARGV[1] now (ms); '' = Redis's clock (TIME), the clock the orphan reaper ages holds by
  ARGV[2..] per hold, five values: hold id, agent id, mission id, attempt, claim id

  Result: how many holds were written
]]
--- @include "@redis/includes/redis-clock"
--- @include "includes/agent-hold"

local now = ARGV[1] ~= '' and tonumber(ARGV[1]) or redisNowMs()
local written = 0
for i = 2, #ARGV, 5 do
  local holdId, agentId, hold = holdAt(i, now)
  if redis.call('HSETNX', KEYS[2], holdId, hold) == 1 then
    redis.call('HINCRBY', KEYS[1], agentId, 1)
    written = written + 1
  end
end
return written
