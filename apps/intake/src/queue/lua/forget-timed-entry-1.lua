--[[
  Takes a mission out of one of its timed sets (a later start, a retry's backoff, a deadline, a
  review deadline) only while its entry is the one a sweep read: a mission that moved on and came
  back meanwhile (a retry scheduled again, at a later time; a result awaiting review again) keeps
  its new entry, or nothing would ever queue it or find its review overdue.

  KEYS[1] the timed set (ZSET: mission id -> due time in ms)

  ARGV[1] mission id
  ARGV[2] the due time the sweep read, as ZRANGEBYSCORE … WITHSCORES gave it

  Result: code from CODE (ForgetCode in due-missions-walk.ts)
    Forgotten  the entry was the one read; removed
    Kept       the entry is another (a new due time) or gone; nothing changed
]]
if redis.call('ZSCORE', KEYS[1], ARGV[1]) ~= ARGV[2] then return CODE.Kept end
redis.call('ZREM', KEYS[1], ARGV[1])
return CODE.Forgotten
