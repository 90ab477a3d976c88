--[[
  Switches one mission's live read model to what a rebuild replayed from the log - unless the
  mission moved on while the rebuild ran - and deletes the rebuild's scratch copy either way. The
  status counters follow `st` when it changes, in the same atomic step; a mission missing from the
  mission index is put back in it, and an event list the rebuild wrote out (one that did not match
  the log) replaces the live one.

  KEYS[1] live mission hash (fields MISSION_FIELDS: version, status, state JSON, lastEventHash, ...)
  KEYS[2] scratch hash written by the rebuild (version, status, state, lastEventHash, and
          SCRATCH_FIELDS: created at (ms), and the event list's log ids, comma-separated, when
          the live list has to be replaced)
  KEYS[3] status counters hash
  KEYS[4] mission index zset (member id, score = created at, ms)
  KEYS[5] live event list (log ids, in version order)
  All five share the {m} hash tag (one Redis Cluster slot).

  ARGV[1] the mission id

  Result: { code, status, repaired }, code from CODE (SwitchCode in rebuild.ts); repaired the sum
  of REPAIRED.Indexed (put back in the index) and REPAIRED.Listed (event list replaced), 0 unless
  Switched or Restored
    MovedOn    live v is newer than the rebuilt v: nothing copied       status = live st
    Switched   live v equals the rebuilt v: s and st copied             status = rebuilt st
    Restored   no live v at all: v, st, s and h written from the rebuild status = rebuilt st
    Behind     live v is older than the rebuilt v: nothing copied       status = live st
    NoScratch  the scratch hash is gone (expired, or switched before)    status = live st ('' if none)
]]
local scratch = redis.call('HMGET', KEYS[2], MISSION_FIELDS.version, MISSION_FIELDS.status, MISSION_FIELDS.state,
  MISSION_FIELDS.lastEventHash, SCRATCH_FIELDS.createdAt, SCRATCH_FIELDS.eventList)
redis.call('DEL', KEYS[2])
local live = redis.call('HMGET', KEYS[1], MISSION_FIELDS.version, MISSION_FIELDS.status)
local liveStatus = live[2] or ''
if not scratch[1] then return { CODE.NoScratch, liveStatus, 0 } end

local function recount(from, to)
  if from == to then return end
  if from ~= '' then redis.call('HINCRBY', KEYS[3], from, -1) end
  redis.call('HINCRBY', KEYS[3], to, 1)
end

-- What the log derives beside the hash: the index entry and the event list.
local function repairIndexAndList()
  local repaired = 0
  if redis.call('ZADD', KEYS[4], 'NX', scratch[5], ARGV[1]) == 1 then repaired = repaired + REPAIRED.Indexed end
  if scratch[6] then
    redis.call('DEL', KEYS[5])
    local ids = {}
    for id in string.gmatch(scratch[6], '[^,]+') do
      ids[#ids + 1] = id
      -- In slices: unpack has a limit on how many values it passes.
      if #ids == 1000 then
        redis.call('RPUSH', KEYS[5], unpack(ids))
        ids = {}
      end
    end
    if #ids > 0 then redis.call('RPUSH', KEYS[5], unpack(ids)) end
    repaired = repaired + REPAIRED.Listed
  end
  return repaired
end

if not live[1] then
  redis.call('HSET', KEYS[1], MISSION_FIELDS.version, scratch[1], MISSION_FIELDS.status, scratch[2], MISSION_FIELDS.state, scratch[3], MISSION_FIELDS.lastEventHash, scratch[4])
  recount(liveStatus, scratch[2])
  return { CODE.Restored, scratch[2], repairIndexAndList() }
end

local liveVersion = tonumber(live[1]) or -1
local rebuiltVersion = tonumber(scratch[1])
if liveVersion > rebuiltVersion then return { CODE.MovedOn, liveStatus, 0 } end
if liveVersion < rebuiltVersion then return { CODE.Behind, liveStatus, 0 } end
redis.call('HSET', KEYS[1], MISSION_FIELDS.status, scratch[2], MISSION_FIELDS.state, scratch[3])
recount(liveStatus, scratch[2])
return { CODE.Switched, scratch[2], repairIndexAndList() }
