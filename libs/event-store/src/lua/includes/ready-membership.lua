--[[
  Ready-queue membership of a mission, in one place: the append script's enqueue and dequeue
  effects, the lease script and the return script all move missions with these functions.

  A ready mission is in
    q.ready                     the ready zset (score = ready score: enqueued at - head start)
    q.since                     the ready-since zset (score = enqueued at, ms)
    q.byLevel                   counted under its priority level
    q.bySkills                  counted under its skill set (its required skills, comma-separated)
    q.skillSetPrefix .. skills  its skill set's own ready zset, with the same score as in q.ready
  and its mission hash records the score, the time, the level and the skill set
  (MISSION_FIELDS.readyScore, enqueuedAt, priorityLevel, skillSet), so a returned lease puts it
  back as it was and leaving the queue uncounts it where it was counted.

  A mission hash replaced by hand with another Redis type (a string, say) records none of that:
  readMissionHash gives nil for it instead of failing the script with WRONGTYPE, after the
  missions moved before it (Redis does not roll a script back). Nor does a hash deleted by hand,
  nor a whole one without its queue fields (as a rebuild leaves a lost hash between writing it and
  restoring its effects): taken out of the queue, such a mission would stay in its skill set's
  queue and counted, to be leased again and again. uncountable names all three; returnToReady
  writes nothing for such a mission, and the lease and return scripts move the others and name it.

  q = { ready, since, byLevel, bySkills, skillSetPrefix }: key names, all in the mission's hash tag.
  The per-skill-set zset is named from skillSetPrefix (an ARGV, not a KEYS entry): it shares the
  prefix's hash tag, so the script still touches one Redis Cluster slot.
  Needs the constant MISSION_FIELDS (LuaScript constants, from mission-hash-fields.ts).
]]

-- The fields of a mission's hash (HMGET), or nil when its key holds another Redis type than a hash
-- (replaced by hand: WRONGTYPE). No TYPE is asked: the read the caller needs anyway tells it. Any
-- other refusal fails the script as it is.
local function readMissionHash(missionKey, ...)
  local fields = redis.pcall('HMGET', missionKey, ...)
  if not fields.err then return fields end
  if string.sub(fields.err, 1, 10) == 'WRONGTYPE ' then return nil end
  error(fields)
end

-- Why the ready queue cannot move a mission by its hash, or nil when it can: `fields` is
-- readMissionHash's answer (nil: of another type), `skillSetAt` and `stateAt` the places in it of the
-- skill set (MISSION_FIELDS.skillSet, written with the other queue fields by every enqueue) and of
-- the state or status. 'wrong-type'; 'no-read-model', no state and no queue fields (its hash deleted);
-- 'no-queue-fields', a state without them. ReadyQueue (ready-queue.ts) names the same three.
local function uncountable(fields, skillSetAt, stateAt)
  if not fields then return 'wrong-type' end
  if fields[skillSetAt] then return nil end
  if fields[stateAt] then return 'no-queue-fields' end
  return 'no-read-model'
end

-- Into every ready structure; counted only when it was not ready yet. True if it was not.
local function insertIntoReady(q, id, score, since, level, skills)
  local added = redis.call('ZADD', q.ready, score, id) == 1
  redis.call('ZADD', q.since, since, id)
  if added and level then redis.call('HINCRBY', q.byLevel, level, 1) end
  if skills then
    if added then redis.call('HINCRBY', q.bySkills, skills, 1) end
    redis.call('ZADD', q.skillSetPrefix .. skills, score, id)
  end
  return added
end

-- Records in a mission's hash where it is queued: its ready score, time, level and skill set.
local function recordQueueFields(missionKey, score, since, level, skills)
  redis.call('HSET', missionKey, MISSION_FIELDS.readyScore, score, MISSION_FIELDS.enqueuedAt, since,
    MISSION_FIELDS.priorityLevel, level, MISSION_FIELDS.skillSet, skills)
end

-- Queues a mission and records its queue fields in its hash. True if it was not ready before.
local function addToReady(q, missionKey, id, score, since, level, skills)
  local added = insertIntoReady(q, id, score, since, level, skills)
  recordQueueFields(missionKey, score, since, level, skills)
  return added
end

-- Queues a mission again as its hash recorded it (a lease that ran out or was handed back);
-- `fallback` (now) stands in for a score or time the hash lacks. True if it was not ready; nil and
-- why (uncountable), with nothing written, when its hash cannot say where to count it: queued
-- without that, it would be counted nowhere, which its next lease would uncount.
local function returnToReady(q, missionKey, id, fallback)
  local queued = readMissionHash(missionKey, MISSION_FIELDS.readyScore, MISSION_FIELDS.enqueuedAt,
    MISSION_FIELDS.priorityLevel, MISSION_FIELDS.skillSet, MISSION_FIELDS.status)
  local why = uncountable(queued, 4, 5)
  if why then return nil, why end
  return insertIntoReady(q, id, queued[1] or fallback, queued[2] or fallback, queued[3], queued[4])
end

-- Out of every ready structure, uncounted where its hash says it was counted. True if it was ready.
-- `queued`: the hash's level and skill set ({ pl, sk }), when the caller has read them already.
local function removeFromReady(q, missionKey, id, queued)
  if redis.call('ZREM', q.ready, id) == 0 then return false end
  redis.call('ZREM', q.since, id)
  queued = queued or redis.call('HMGET', missionKey, MISSION_FIELDS.priorityLevel, MISSION_FIELDS.skillSet)
  if queued[1] then redis.call('HINCRBY', q.byLevel, queued[1], -1) end
  if queued[2] then
    redis.call('HINCRBY', q.bySkills, queued[2], -1)
    redis.call('ZREM', q.skillSetPrefix .. queued[2], id)
  end
  return true
end
