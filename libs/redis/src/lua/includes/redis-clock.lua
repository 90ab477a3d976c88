--[[
  Redis's own clock in ms: what every script that sets or checks a lease deadline reads, so that
  a deadline means the same to the orchestrator that takes the lease, the append that checks it
  and the intake that expires it, whatever the clocks of their hosts say.
]]

local function redisNowMs()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
