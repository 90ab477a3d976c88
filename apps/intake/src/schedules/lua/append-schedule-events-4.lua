--[[
  Appends events of one schedule (created, fired, skipped, deleted) at an expected version and
  updates its record and its place in the due set, all or nothing: two intakes firing the same
  due time both read version n, and only the first append at n lands.

  KEYS[1] schedule records hash (schedule id -> record JSON)
  KEYS[2] schedule versions hash
  KEYS[3] the schedule's event stream
  KEYS[4] due set (schedule id, score = next due time in ms)

  ARGV[1] schedule id
  ARGV[2] expected version (0 to create)
  ARGV[3] record JSON after the events ('' = deleted: the record goes)
  ARGV[4] next due time in ms ('' = none: the schedule leaves the due set)
  ARGV[5..] event JSON, one per event, in order

  Result: { code, detail }, code from CODE (ScheduleAppendCode in schedule-registry.ts)
    Ok               detail = new version
    VersionConflict  detail = current version
]]
--- @include "@redis/includes/versioned-append"

local appended, version = appendAtVersion(KEYS[2], ARGV[1], ARGV[2], KEYS[3], 5, #ARGV)
if not appended then return { CODE.VersionConflict, tostring(version) } end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
if ARGV[4] == '' then redis.call('ZREM', KEYS[4], ARGV[1]) else redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1]) end
return { CODE.Ok, tostring(version) }
