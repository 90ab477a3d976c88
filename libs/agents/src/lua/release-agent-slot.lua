--[[
  Gives back the slot of one hold and, with an evaluation verdict, moves the agent's credits and
  rolling quality and records AgentCreditsChanged - once: only the call that removes the hold
  does anything, so a redelivered release or verdict changes nothing.

  KEYS[1] load hash (agent id -> slots held)
  KEYS[2] holds hash (hold id -> hold JSON)
  KEYS[3] credits hash
  KEYS[4] quality hash (rolling quality, an exponential moving average of verdict scores)
  KEYS[5] the agent's event stream

  ARGV[1] hold id
  ARGV[2] agent id
  ARGV[3] hold JSON the caller saw ('' = whatever it is); a hold claimed again since is kept
  ARGV[4] credit delta ('' = no verdict; ARGV[5..7] are then ignored)
  ARGV[5] verdict score
  ARGV[6] weight of the new score in the quality average
  ARGV[7] AgentCreditsChanged event JSON

  Result:
    0 RELEASED
    1 NOT_HELD   already released (or claimed again since the caller looked)
]]
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current or (ARGV[3] ~= '' and current ~= ARGV[3]) then return 1 end
redis.call('HDEL', KEYS[2], ARGV[1])
if tonumber(redis.call('HINCRBY', KEYS[1], ARGV[2], -1)) < 0 then redis.call('HSET', KEYS[1], ARGV[2], 0) end
if ARGV[4] ~= '' then
  redis.call('HINCRBYFLOAT', KEYS[3], ARGV[2], ARGV[4])
  local score = tonumber(ARGV[5])
  local weight = tonumber(ARGV[6])
  local old = redis.call('HGET', KEYS[4], ARGV[2])
  if old then score = tonumber(old) * (1 - weight) + score * weight end
  redis.call('HSET', KEYS[4], ARGV[2], tostring(score))
  redis.call('XADD', KEYS[5], '*', 'e', ARGV[7])
end
return 0
