--[[
  Records a data subject's erasure as pending, before its data key is destroyed, unless one is
  pending already: then that one stays (it is the erasure whose key destruction may have happened),
  and the caller completes it with its actor and reason.

  KEYS[1] the subject's pending-erasure hash (id, actor, reason, requestedAt)
  KEYS[2] pending erasures (subject, score = requested at, ms)

  ARGV[1] subject id
  ARGV[2] erasure id
  ARGV[3] actor
  ARGV[4] reason
  ARGV[5] requested at (ISO time)
  ARGV[6] requested at (ms)

  Result: { code, id, actor, reason, requestedAt } of the erasure in force, code from CODE
  (MarkCode in pending-erasures.ts)
    Recorded  this call recorded it
    Pending   one was pending already; its fields are returned
]]
local pending = redis.call('HMGET', KEYS[1], 'id', 'actor', 'reason', 'requestedAt')
if pending[1] then
  return { CODE.Pending, pending[1], pending[2], pending[3], pending[4] }
end
redis.call('HSET', KEYS[1], 'id', ARGV[2], 'actor', ARGV[3], 'reason', ARGV[4], 'requestedAt', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
return { CODE.Recorded, ARGV[2], ARGV[3], ARGV[4], ARGV[5] }
