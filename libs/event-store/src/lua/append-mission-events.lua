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
  KEYS[7..] keys named by the effects below, by index into KEYS (the effects are
          includes/mission-effects.lua, shared with restore-mission-effects-17.lua)
  The KEYS count varies (6, then the effects' keys), so the name has no -<numKeys> suffix.
  The per-skill-set ready queue an enqueue or dequeue touches is named from a prefix in ARGV, not
  passed in KEYS; the prefix carries the partition's hash tag, so all stays in one slot.

  Tamper evidence: each event is stored with "prevHash" (SHA-1 of the mission's previous stored
  event) and "logPrevHash" (SHA-1 of the previous stored event in the log) added to its JSON, so
  editing, deleting, inserting or reordering a stored event breaks a chain that `verify` walks.

  ARGV[1] mission id
  ARGV[2] expected version (0 for a new mission)
  ARGV[3] status after the events
  ARGV[4] state JSON after the events
  ARGV[5] created at (ms), used when the mission is new
  ARGV[6] number of events n, then n event JSON envelopes (objects, without the two hashes)
  then effects, each its name, its argument count c and its c arguments (the script steps over
  an effect by its count, so only encodeEffect in mission-store.ts knows an effect's arity):
    trace         <traceparent> <tracestate>  first when the append is traced: every message a
                                              later effect writes carries the W3C trace context
                                              (fields traceparent, and tracestate unless empty),
                                              and the mission hash keeps the traceparent
    idempotency   <key> <fingerprint> <ttl ms> <former fingerprints>
                                              claims the idempotency record (value "<mission id>
                                              <fingerprint>", living <ttl ms>). Held by an
                                              earlier create: result Duplicate with the first id
                                              when the record's fingerprint is <fingerprint> or
                                              one of <former fingerprints> (comma-separated,
                                              none or more: the same body as a record written
                                              under a previous master key or before fingerprints
                                              were keyed holds it; never stored), or the record
                                              has none; IdempotencyMismatch when it is none of
                                              them. No record but the mission (whose id derives
                                              from the key) exists: the record expired,
                                              IdempotencyExpired
    require-lease <leases> <owners> <lease id>
                                              the mission must still be leased, to this lease
                                              (ARGV lease id = the lease request's id) and not
                                              past its deadline (Redis' clock); the lease is removed
    enqueue       <ready queue> <score> <at> <level> <skills> <per-minute> <field>
                                              into the ready queue (addToReady in
                                              includes/ready-membership.lua) with the score, the
                                              time, the level and the required skills
                                              (comma-separated); counted per minute when new,
                                              unless <field> is empty (a restore)
    dequeue       <ready queue>               out of the ready queue (removeFromReady), if it
                                              was there
    where <ready queue> = <ready> <since> <by-level> <by-skills> <skill-set prefix> (see
    readyQueueAt)
    zadd          <zset> <score>
    zrem          <zset>
    sadd          <set>                       the mission id into the set
    hdel          <hash>                      the mission's field of the hash
    hset-mission  <field> <value>             a field of the mission hash (KEYS[1]), e.g.
                                              MISSION_FIELDS.deadLetterReason with a dead letter
    hdel-mission  <field>                     a field of the mission hash, removed
    hincrby       <hash> <field> <delta>
    xadd          <stream> <pattern> <data>   a message for another service
    xadd-mission  <stream> <pattern>          a message {"mission": <state after the events>}
    nudge         <stream> <marker> <ms> <pattern>
                                              a message {} unless the marker exists; the marker
                                              then lives <ms> ms, so nudges are coalesced

  Result: { code, detail }, code from CODE (AppendCode in append-result.ts)
    Ok                   detail = new version
    VersionConflict      detail = current version
    Duplicate            detail = id of the mission created first with this idempotency key
    LeaseLost            detail = ''
    IdempotencyMismatch  detail = id of the first mission (its body differs from this one)
    IdempotencyExpired   detail = id of the mission the key named before its record expired
]]
--- @include "@redis/includes/redis-clock"
--- @include "includes/ready-membership"
--- @include "includes/per-minute-counts"
--- @include "includes/mission-effects"

local missionId = ARGV[1]
local expected = tonumber(ARGV[2])
-- One read of the mission hash for the version, the previous status and the chain's last hash.
local held = redis.call('HMGET', KEYS[1], MISSION_FIELDS.version, MISSION_FIELDS.status, MISSION_FIELDS.lastEventHash)
local current = tonumber(held[1] or '0')

local n = tonumber(ARGV[6])
local first = 7 + n

-- Whether a stored record's fingerprint is this body's: the idempotency effect's own (ARGV[a + 1])
-- or one of its former ones (ARGV[a + 3]). Compared whole, so a withdrawn key's marker (0, 00)
-- never matches a fingerprint's 64 hex digits.
local function sameBody(stored, a)
  if stored == ARGV[a + 1] then return true end
  for former in string.gmatch(ARGV[a + 3], '[^,]+') do
    if stored == former then return true end
  end
  return false
end

-- Each effect's checks (only some have any), given the position of its first argument in ARGV.
-- They run for every effect before anything is written; a result stops the append.
local checks = {
  idempotency = function(a)
    local existing = redis.call('GET', key(a))
    if existing then
      local firstId, fingerprint = string.match(existing, '^(%S+) (%x+)$')
      -- A record written before fingerprints were stored is the bare mission id.
      if not firstId then return { CODE.Duplicate, existing } end
      if not sameBody(fingerprint, a) then return { CODE.IdempotencyMismatch, firstId } end
      return { CODE.Duplicate, firstId }
    end
    if current ~= 0 then return { CODE.IdempotencyExpired, missionId } end
  end,
  ['require-lease'] = function(a)
    local deadline = redis.call('ZSCORE', key(a), missionId)
    if not deadline or redis.call('HGET', key(a + 1), missionId) ~= ARGV[a + 2] then return { CODE.LeaseLost, '' } end
    if tonumber(deadline) < redisNowMs() then return { CODE.LeaseLost, '' } end
  end,
}

-- Each effect, applied after the events are appended (includes/mission-effects.lua).
local effects = missionEffects(missionId, KEYS[1], ARGV[4])

-- Pass 1: every check, before anything is written.
local stop = eachEffect(first, function(name, a)
  if not effects[name] then return redis.error_reply('unknown effect ' .. tostring(name)) end
  if checks[name] then return checks[name](a) end
end)
if stop then return stop end
if current ~= expected then return { CODE.VersionConflict, tostring(current) } end

-- Pass 2: append and apply.
local missionHash = held[3] or ''
local logHash = redis.call('GET', KEYS[6]) or ''
for e = 7, 6 + n do
  local stored = string.sub(ARGV[e], 1, -2) .. ',"prevHash":"' .. missionHash .. '","logPrevHash":"' .. logHash .. '"}'
  local logId = redis.call('XADD', KEYS[3], '*', 'm', missionId, 'e', stored)
  redis.call('RPUSH', KEYS[2], logId)
  missionHash = redis.sha1hex(stored)
  logHash = missionHash
end
redis.call('SET', KEYS[6], logHash)
local previousStatus = held[2]
if previousStatus then
  redis.call('HINCRBY', KEYS[4], previousStatus, -1)
else
  redis.call('ZADD', KEYS[5], ARGV[5], missionId)
end
redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
redis.call('HSET', KEYS[1], MISSION_FIELDS.version, expected + n, MISSION_FIELDS.status, ARGV[3], MISSION_FIELDS.state, ARGV[4], MISSION_FIELDS.lastEventHash, missionHash)

eachEffect(first, function(name, a) effects[name](a) end)
return { CODE.Ok, tostring(expected + n) }
