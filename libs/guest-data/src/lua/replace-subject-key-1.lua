--[[
  Replaces a subject's stored data key only if it is still the one the caller read, so a rewrap
  never brings back a key that was destroyed (the subject erased) or replaced meanwhile. Also
  rewraps a webhook subscription's sealed signing secrets (replaceIfUnchanged), which a rotation
  or a deletion may have replaced or removed meanwhile.

  KEYS[1] the subject-key hash (or the webhook secrets hash)

  ARGV[1] subject id (or subscription id)
  ARGV[2] the record as the caller read it (JSON)
  ARGV[3] the new record (JSON)

  Result: CODE.Replaced, or CODE.Changed when the stored record differs or is gone (nothing written).
]]
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return CODE.Changed
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return CODE.Replaced
