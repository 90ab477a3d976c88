--[[
  A slot hold as the agent scripts write it (claim-agent-slots-4.lua, restore-agent-holds-2.lua),
  so the two cannot store it differently: from the five ARGV values at `i` (hold id, agent id,
  mission id, attempt, claim id), holdAt(i, now) returns the hold id, the agent id and the hold
  JSON {agentId, missionId, attempt, at, claimId}.
]]

local function holdAt(i, now)
  local agentId = ARGV[i + 1]
  return ARGV[i], agentId, cjson.encode({ agentId = agentId, missionId = ARGV[i + 2], attempt = tonumber(ARGV[i + 3]), at = now, claimId = ARGV[i + 4] })
end
