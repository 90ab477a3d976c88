--[[
  Takes a mission out of one of its timed sets (a later start, a retry's backoff, a deadline, a
  review deadline) only while its entry is the one a sweep read and its mission is as the sweep
  read it: a mission that moved on and came back meanwhile (a retry scheduled again, at a later
  time; a result awaiting review again) keeps its new entry, and one written again meanwhile
  (its hash deleted by hand, then written back with its entry, at the same time, by `replay
  rebuild`, which runs with the system running) keeps that entry, or nothing would ever queue it
  or find its review overdue. So does one whose `s` had drifted (edited by hand to a status it
  does not have) and that `replay rebuild` switched back at the same version: its status `st` is
  no longer the one the sweep read.

  KEYS[1] the timed set (ZSET: mission id -> due time in ms)
  KEYS[2] the mission's hash (MISSION_FIELDS), in the partition of the set

  ARGV[1] mission id
  ARGV[2] the due time the sweep read, as ZRANGEBYSCORE … WITHSCORES gave it
  ARGV[3] the mission's version the sweep read, or '' when it found no mission
  ARGV[4] the mission's status the sweep read (from its `s`), or '' when it found no mission

  Result: code from CODE (ForgetCode in due-missions-walk.ts)
    Forgotten  the entry and the mission were as read; the entry removed
    Moved      the entry is another (a new due time) or gone; nothing changed
    Kept       the entry is the one read, its mission not (another version or status `st`, or there
               again); nothing changed
]]
if redis.call('ZSCORE', KEYS[1], ARGV[1]) ~= ARGV[2] then return CODE.Moved end
if ARGV[3] == '' then
  if redis.call('EXISTS', KEYS[2]) == 1 then return CODE.Kept end
else
  local live = redis.call('HMGET', KEYS[2], MISSION_FIELDS.version, MISSION_FIELDS.status)
  if live[1] ~= ARGV[3] or live[2] ~= ARGV[4] then return CODE.Kept end
end
redis.call('ZREM', KEYS[1], ARGV[1])
return CODE.Forgotten
