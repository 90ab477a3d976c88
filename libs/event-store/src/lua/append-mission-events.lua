--[[
  Appends a mission's new events to the log at an expected version, updates the mission's read
  model, and applies the side effects that must happen with them (queue moves, agent slots,
  messages to other services) - all or nothing. Every key is in the mission's hash slot.

  KEYS[1] mission hash (its fields are MISSION_FIELDS, declared in mission-hash-fields.ts:
          version, status, state JSON, hash of its last event, and the ready-queue fields)
  KEYS[2] mission's event list (log entry ids, in version order)
  KEYS[3] event log stream
  KEYS[4] status counters hash
  KEYS[5] mission index zset (member id, score = created at, ms)
  KEYS[6] log head: hash of the last event in the log
  KEYS[7..] keys named by the effects below, by index into KEYS

  Tamper evidence: each event is stored with "prevHash" (SHA-1 of the mission's previous stored
  event) and "logPrevHash" (SHA-1 of the previous stored event in the log) added to its JSON, so
  editing, deleting, inserting or reordering a stored event breaks a chain that `verify` walks.

  ARGV[1] mission id
  ARGV[2] expected version (0 for a new mission)
  ARGV[3] status after the events
  ARGV[4] state JSON after the events
  ARGV[5] created at (ms), used when the mission is new
  ARGV[6] number of events n, then n event JSON envelopes (objects, without the two hashes)
  then effects, each a name followed by its arguments:
    idempotency   <key> <fingerprint> <ttl ms>
                                              claims the idempotency record (value "<mission id>
                                              <body fingerprint>", living <ttl ms>). Held by an
                                              earlier create: result DUPLICATE with the first id
                                              when the fingerprints match (or the record has
                                              none), IDEMPOTENCY_MISMATCH when they differ. No
                                              record but the mission (whose id derives from the
                                              key) exists: the record expired, IDEMPOTENCY_EXPIRED
    require-lease <leases> <owners> <lease id>
                                              the mission must still be leased, to this lease
                                              (ARGV lease id = the lease request's id) and not
                                              past its deadline (Redis' clock); the lease is removed
    enqueue       <ready queue> <score> <at> <level> <skills> <per-minute> <field>
                                              into the ready queue (addToReady in
                                              includes/ready-membership.lua) with the score, the
                                              time, the level and the required skills
                                              (comma-separated); counted per minute when new
    dequeue       <ready queue>               out of the ready queue (removeFromReady), if it
                                              was there
    where <ready queue> = <ready> <since> <by-level> <by-skills> <skill-set prefix> (see
    readyQueueAt)
    zadd          <zset> <score>
    zrem          <zset>
    hdel          <hash>                      the mission's field of the hash
    hincrby       <hash> <field> <delta>
    xadd          <stream> <pattern> <data>   a message for another service
    xadd-mission  <stream> <pattern>          a message {"mission": <state after the events>}
    nudge         <stream> <marker> <ms> <pattern>
                                              a message {} unless the marker exists; the marker
                                              then lives <ms> ms, so nudges are coalesced

  Result: { code, detail }
    0 OK               detail = new version
    1 VERSION_CONFLICT detail = current version
    2 DUPLICATE        detail = id of the mission created first with this idempotency key
    3 LEASE_LOST       detail = ''
    4 IDEMPOTENCY_MISMATCH detail = id of the first mission (its body differs from this one)
    5 IDEMPOTENCY_EXPIRED  detail = id of the mission the key named before its record expired
]]
--- @include "includes/ready-membership"

local missionId = ARGV[1]
local expected = tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], MISSION_FIELDS.version) or '0')

local n = tonumber(ARGV[6])
local first = 7 + n

-- The ready-queue keys that lead an enqueue or dequeue effect's arguments, from ARGV[at].
local function readyQueueAt(at)
  return {
    ready = KEYS[tonumber(ARGV[at])],
    since = KEYS[tonumber(ARGV[at + 1])],
    byLevel = KEYS[tonumber(ARGV[at + 2])],
    bySkills = KEYS[tonumber(ARGV[at + 3])],
    skillSetPrefix = ARGV[at + 4],
  }
end

-- Pass 1: every check, before anything is written.
local i = first
while i <= #ARGV do
  local name = ARGV[i]
  if name == 'idempotency' then
    local existing = redis.call('GET', KEYS[tonumber(ARGV[i + 1])])
    if existing then
      local firstId, fingerprint = string.match(existing, '^(%S+) (%x+)$')
      -- A record written before fingerprints were stored is the bare mission id.
      if not firstId then return { 2, existing } end
      if fingerprint ~= ARGV[i + 2] then return { 4, firstId } end
      return { 2, firstId }
    end
    if current ~= 0 then return { 5, missionId } end
    i = i + 4
  elseif name == 'require-lease' then
    local deadline = redis.call('ZSCORE', KEYS[tonumber(ARGV[i + 1])], missionId)
    if not deadline or redis.call('HGET', KEYS[tonumber(ARGV[i + 2])], missionId) ~= ARGV[i + 3] then return { 3, '' } end
    local time = redis.call('TIME')
    if tonumber(deadline) < tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) then return { 3, '' } end
    i = i + 4
  elseif name == 'zadd' then
    i = i + 3
  elseif name == 'enqueue' then
    i = i + 12
  elseif name == 'dequeue' then
    i = i + 6
  elseif name == 'zrem' or name == 'hdel' then
    i = i + 2
  elseif name == 'hincrby' or name == 'xadd' then
    i = i + 4
  elseif name == 'xadd-mission' then
    i = i + 3
  elseif name == 'nudge' then
    i = i + 5
  else
    return redis.error_reply('unknown effect ' .. tostring(name))
  end
end
if current ~= expected then return { 1, tostring(current) } end

-- Pass 2: append and apply.
local missionHash = redis.call('HGET', KEYS[1], MISSION_FIELDS.lastEventHash) or ''
local logHash = redis.call('GET', KEYS[6]) or ''
for e = 7, 6 + n do
  local stored = string.sub(ARGV[e], 1, -2) .. ',"prevHash":"' .. missionHash .. '","logPrevHash":"' .. logHash .. '"}'
  local logId = redis.call('XADD', KEYS[3], '*', 'm', missionId, 'e', stored)
  redis.call('RPUSH', KEYS[2], logId)
  missionHash = redis.sha1hex(stored)
  logHash = missionHash
end
redis.call('SET', KEYS[6], logHash)
local previousStatus = redis.call('HGET', KEYS[1], MISSION_FIELDS.status)
if previousStatus then
  redis.call('HINCRBY', KEYS[4], previousStatus, -1)
else
  redis.call('ZADD', KEYS[5], ARGV[5], missionId)
end
redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
redis.call('HSET', KEYS[1], MISSION_FIELDS.version, expected + n, MISSION_FIELDS.status, ARGV[3], MISSION_FIELDS.state, ARGV[4], MISSION_FIELDS.lastEventHash, missionHash)

i = first
while i <= #ARGV do
  local name = ARGV[i]
  if name == 'idempotency' then
    redis.call('SET', KEYS[tonumber(ARGV[i + 1])], missionId .. ' ' .. ARGV[i + 2], 'PX', ARGV[i + 3])
    i = i + 4
  elseif name == 'require-lease' then
    redis.call('ZREM', KEYS[tonumber(ARGV[i + 1])], missionId)
    redis.call('HDEL', KEYS[tonumber(ARGV[i + 2])], missionId)
    i = i + 4
  elseif name == 'enqueue' then
    if addToReady(readyQueueAt(i + 1), KEYS[1], missionId, ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9]) then
      redis.call('HINCRBY', KEYS[tonumber(ARGV[i + 10])], ARGV[i + 11], 1)
    end
    i = i + 12
  elseif name == 'dequeue' then
    removeFromReady(readyQueueAt(i + 1), KEYS[1], missionId)
    i = i + 6
  elseif name == 'zadd' then
    redis.call('ZADD', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], missionId)
    i = i + 3
  elseif name == 'zrem' then
    redis.call('ZREM', KEYS[tonumber(ARGV[i + 1])], missionId)
    i = i + 2
  elseif name == 'hdel' then
    redis.call('HDEL', KEYS[tonumber(ARGV[i + 1])], missionId)
    i = i + 2
  elseif name == 'hincrby' then
    redis.call('HINCRBY', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  elseif name == 'xadd' then
    redis.call('XADD', KEYS[tonumber(ARGV[i + 1])], '*', 'pattern', ARGV[i + 2], 'data', ARGV[i + 3])
    i = i + 4
  elseif name == 'xadd-mission' then
    redis.call('XADD', KEYS[tonumber(ARGV[i + 1])], '*', 'pattern', ARGV[i + 2], 'data', '{"mission":' .. ARGV[4] .. '}')
    i = i + 3
  elseif name == 'nudge' then
    if redis.call('SET', KEYS[tonumber(ARGV[i + 2])], '1', 'NX', 'PX', ARGV[i + 3]) then
      redis.call('XADD', KEYS[tonumber(ARGV[i + 1])], '*', 'pattern', ARGV[i + 4], 'data', '{}')
    end
    i = i + 5
  end
end
return { 0, tostring(expected + n) }
