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

  q = { ready, since, byLevel, bySkills, skillSetPrefix }: key names, all in the mission's hash tag.
  The per-skill-set zset is named from skillSetPrefix (an ARGV, not a KEYS entry): it shares the
  prefix's hash tag, so the script still touches one Redis Cluster slot.
  Needs the constant MISSION_FIELDS (LuaScript constants, from mission-hash-fields.ts).
]]

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

-- Queues a mission and records its queue fields in its hash. True if it was not ready before.
local function addToReady(q, missionKey, id, score, since, level, skills)
  local added = insertIntoReady(q, id, score, since, level, skills)
  redis.call('HSET', missionKey, MISSION_FIELDS.readyScore, score, MISSION_FIELDS.enqueuedAt, since,
    MISSION_FIELDS.priorityLevel, level, MISSION_FIELDS.skillSet, skills)
  return added
end

-- Queues a mission again as its hash recorded it (a lease that ran out or was handed back);
-- `fallback` (now) stands in for a score or time the hash lacks.
local function returnToReady(q, missionKey, id, fallback)
  local queued = redis.call('HMGET', missionKey, MISSION_FIELDS.readyScore, MISSION_FIELDS.enqueuedAt,
    MISSION_FIELDS.priorityLevel, MISSION_FIELDS.skillSet)
  return insertIntoReady(q, id, queued[1] or fallback, queued[2] or fallback, queued[3], queued[4])
end

-- Out of every ready structure, uncounted where its hash says it was counted. True if it was ready.
local function removeFromReady(q, missionKey, id)
  if redis.call('ZREM', q.ready, id) == 0 then return false end
  redis.call('ZREM', q.since, id)
  local queued = redis.call('HMGET', missionKey, MISSION_FIELDS.priorityLevel, MISSION_FIELDS.skillSet)
  if queued[1] then redis.call('HINCRBY', q.byLevel, queued[1], -1) end
  if queued[2] then
    redis.call('HINCRBY', q.bySkills, queued[2], -1)
    redis.call('ZREM', q.skillSetPrefix .. queued[2], id)
  end
  return true
end
