--[[
  Removes a data subject's pending erasure once each of its missions has SubjectErased: only the
  one with the given id, so a later erasure of the same subject (a guest who came back) stays.

  KEYS[1] the subject's pending-erasure hash
  KEYS[2] pending erasures (subject, score = requested at, ms)

  ARGV[1] subject id
  ARGV[2] erasure id

  Result: a code from CODE (ClearCode in pending-erasures.ts)
    Cleared  it was pending and is removed
    Absent   none was pending (the index entry, if any, is removed)
    Other    another erasure is pending now; left as it is
]]
local id = redis.call('HGET', KEYS[1], 'id')
if not id then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return CODE.Absent
end
if id ~= ARGV[2] then return CODE.Other end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return CODE.Cleared
