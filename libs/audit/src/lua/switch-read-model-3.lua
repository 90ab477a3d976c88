--[[
  Switches one mission's live read model to the state a rebuild replayed from the log - unless the
  mission moved on while the rebuild ran - and deletes the rebuild's scratch copy either way. The
  status counters follow `st` when it changes, in the same atomic step.

  KEYS[1] live mission hash (fields MISSION_FIELDS: version, status, state JSON, lastEventHash, ...)
  KEYS[2] scratch hash written by the rebuild (version, status, state, lastEventHash)
  KEYS[3] status counters hash
  All three share the {m} hash tag (one Redis Cluster slot).

  ARGV    none

  Result: { code, status }, code from CODE (SwitchCode in rebuild.ts)
    MovedOn    live v is newer than the rebuilt v: nothing copied       status = live st
    Switched   live v equals the rebuilt v: s and st copied             status = rebuilt st
    Restored   no live v at all: v, st, s and h written from the rebuild status = rebuilt st
    Behind     live v is older than the rebuilt v: nothing copied       status = live st
    NoScratch  the scratch hash is gone (expired, or switched before)    status = live st ('' if none)
]]
local scratch = redis.call('HMGET', KEYS[2], MISSION_FIELDS.version, MISSION_FIELDS.status, MISSION_FIELDS.state, MISSION_FIELDS.lastEventHash)
redis.call('DEL', KEYS[2])
local live = redis.call('HMGET', KEYS[1], MISSION_FIELDS.version, MISSION_FIELDS.status)
local liveStatus = live[2] or ''
if not scratch[1] then return { CODE.NoScratch, liveStatus } end

local function recount(from, to)
  if from == to then return end
  if from ~= '' then redis.call('HINCRBY', KEYS[3], from, -1) end
  redis.call('HINCRBY', KEYS[3], to, 1)
end

if not live[1] then
  redis.call('HSET', KEYS[1], MISSION_FIELDS.version, scratch[1], MISSION_FIELDS.status, scratch[2], MISSION_FIELDS.state, scratch[3], MISSION_FIELDS.lastEventHash, scratch[4])
  recount(liveStatus, scratch[2])
  return { CODE.Restored, scratch[2] }
end

local liveVersion = tonumber(live[1]) or -1
local rebuiltVersion = tonumber(scratch[1])
if liveVersion > rebuiltVersion then return { CODE.MovedOn, liveStatus } end
if liveVersion < rebuiltVersion then return { CODE.Behind, liveStatus } end
redis.call('HSET', KEYS[1], MISSION_FIELDS.status, scratch[2], MISSION_FIELDS.state, scratch[3])
recount(liveStatus, scratch[2])
return { CODE.Switched, scratch[2] }
