--[[
  Gives back the slot of one hold, in one of two ways:
  - 'end': the attempt ended (its MissionFailed, MissionEvaluated or MissionCancelled was written).
    Once per attempt: an ended marker is set (it also stops stale claims of the attempt) and the
    hold is removed; with an evaluation verdict the agent's credits and rolling quality move and
    AgentCreditsChanged is recorded. Only the call that removes the hold credits: a release
    redelivered after the marker expired (it lives ARGV[5] s) finds no hold and changes nothing.
  - 'give-back': a claim whose assignment was not appended. Only the hold exactly as the caller
    wrote or read it is removed, so a claim made since by someone else keeps its slot.

  KEYS[1] load hash (agent id -> slots held)
  KEYS[2] holds hash (hold id -> hold JSON)
  KEYS[3] credits hash
  KEYS[4] quality hash (rolling quality, an exponential moving average of verdict scores)
  KEYS[5] the agent's event stream

  ARGV[1] hold id
  ARGV[2] agent id
  ARGV[3] 'end' | 'give-back'
  ARGV[4] for 'end': the ended marker key (same hash tag); for 'give-back': the hold JSON to match
  ARGV[5] for 'end': how long the marker lives (s)
  ARGV[6] credit delta ('' = no verdict; ARGV[7..9] are then ignored)
  ARGV[7] verdict score
  ARGV[8] weight of the new score in the quality average
  ARGV[9] AgentCreditsChanged event JSON

  Result: a code from CODE (ReleaseCode in agent-slots.ts)
    Released  (for 'end': this call ended the attempt)
    NotHeld   (for 'end': the attempt had ended before, or its hold was freed without it;
               for 'give-back': the hold is gone or claimed again)
]]
local function freeSlot()
  redis.call('HDEL', KEYS[2], ARGV[1])
  if tonumber(redis.call('HINCRBY', KEYS[1], ARGV[2], -1)) < 0 then redis.call('HSET', KEYS[1], ARGV[2], 0) end
end

if ARGV[3] == 'give-back' then
  if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[4] then return CODE.NotHeld end
  freeSlot()
  return CODE.Released
end

if not redis.call('SET', ARGV[4], '1', 'NX', 'EX', ARGV[5]) then return CODE.NotHeld end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return CODE.NotHeld end
freeSlot()
if ARGV[6] ~= '' then
  redis.call('HINCRBYFLOAT', KEYS[3], ARGV[2], ARGV[6])
  local score = tonumber(ARGV[7])
  local weight = tonumber(ARGV[8])
  local old = redis.call('HGET', KEYS[4], ARGV[2])
  if old then score = tonumber(old) * (1 - weight) + score * weight end
  redis.call('HSET', KEYS[4], ARGV[2], tostring(score))
  redis.call('XADD', KEYS[5], '*', 'e', ARGV[9])
end
return CODE.Released
