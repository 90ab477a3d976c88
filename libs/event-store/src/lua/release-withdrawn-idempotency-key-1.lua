--[[
  Takes back a withdrawal (withdraw-idempotency-key-2.lua) whose append failed, so that a due
  time left to fire can fire: deletes the key's record only if it still holds exactly what that
  withdrawal wrote. Not once another withdrawal met it (the record is marked met: that one may
  rely on it), nor once a create holds the key (its record expired and a create used the key).

  KEYS[1] the key's idempotency record

  ARGV[1] the mission id that the key names
  ARGV[2] the fingerprint of a withdrawn key (WITHDRAWN_FINGERPRINT in mission-store.ts)

  Result: a code from CODE (WithdrawalReleaseCode in mission-store.ts)
    Released  the record is gone: a create can use the key again
    Kept      the record holds something else, left as it is
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then return CODE.Kept end
redis.call('DEL', KEYS[1])
return CODE.Released
