--[[
  Applies again the effects that keep a mission's index memberships (ready queue, schedule,
  deadlines, reviews, dead letters) and, for a mission in flight, its driving message: for a
  mission whose events and hash were written without them (an import). The
  effects are those of append-mission-events.lua (includes/mission-effects.lua), replayed from the
  mission's events by MissionStore.restoreEffects; no event is appended and the mission hash's
  version, status, state and chain hash are left as they are (a dead letter's effect writes its
  reason field again, as the append did). Every key is in the mission's hash slot.

  KEYS[1]  mission hash
  KEYS[2]  ready zset            KEYS[3]  ready-since zset      KEYS[4]  ready by level
  KEYS[5]  ready by skill set    KEYS[6]  per-minute counts     KEYS[7]  leased zset
  KEYS[8]  lease owners          KEYS[9]  dead letters          KEYS[10] awaiting review
  KEYS[11] review deadlines      KEYS[12] scheduled (delayed)   KEYS[13] scheduled (retry)
  KEYS[14] deadlines             KEYS[15] overdue               KEYS[16] executor stream
  KEYS[17] evaluator stream
  (an effect names its keys by index into KEYS, as in the append script; these are all it may name)

  ARGV[1] mission id
  ARGV[2] the mission's version the effects were replayed to
  ARGV[3..] effects, each its name, its argument count c and its c arguments; mission messages
          (xadd-mission) carry the state in the mission hash

  Result: code from CODE (RestoreCode in mission-store.ts)
    Restored  the effects were applied
    MovedOn   the mission hash is at another version (or gone): nothing was applied
    Leased    a lease holds the mission (KEYS[7]): the effects on the ready queue and the leases
              (KEYS[2..8]) were left out, since queuing it would hand it out twice (a lease
              changes no version, so the version check cannot see it), and the others (its
              deadline watch, schedule, reviews, dead letter) were applied as for any mission:
              a sweep that read its hash drifted or gone may have dropped its deadline entry
    QueueFields  as Leased, and its hash had no queue fields (a hash written again by a
              rebuild, or deleted, while the lease was held): those were written too, from its
              last enqueue effect (its score, time, level and skill set), and no ready-queue
              sorted set or count was touched, so the lease's end (return-leased-missions-8.lua)
              queues it as it was, counted once; without them that return would leave it out of
              the queue
]]
--- @include "@redis/includes/redis-clock"
--- @include "includes/ready-membership"
--- @include "includes/per-minute-counts"
--- @include "includes/mission-effects"

local missionId = ARGV[1]
local held = redis.call('HMGET', KEYS[1], MISSION_FIELDS.version, MISSION_FIELDS.state)
if held[1] ~= ARGV[2] or not held[2] then return CODE.MovedOn end
local effects = missionEffects(missionId, KEYS[1], held[2])
local unknown = eachEffect(3, function(name)
  if not effects[name] then return redis.error_reply('unknown effect ' .. tostring(name)) end
end)
if unknown then return unknown end

if redis.call('ZSCORE', KEYS[7], missionId) then
  local code = CODE.Leased
  -- A leased mission is queued: its last enqueue is where it was queued (the lease uncounted it there).
  if redis.call('HEXISTS', KEYS[1], MISSION_FIELDS.skillSet) == 0 then
    local enqueuedAt
    eachEffect(3, function(name, a)
      if name == 'enqueue' then enqueuedAt = a end
    end)
    if enqueuedAt then
      recordQueueFields(KEYS[1], ARGV[enqueuedAt + 5], ARGV[enqueuedAt + 6], ARGV[enqueuedAt + 7], ARGV[enqueuedAt + 8])
      code = CODE.QueueFields
    end
  end
  -- Every effect names its keys first (enqueue and dequeue the ready queue's, leave-queue's zrem and
  -- hdel the leases'); those of KEYS[2..8] are left out, the rest applied.
  eachEffect(3, function(name, a)
    local first = tonumber(ARGV[a])
    if not (first and first >= 2 and first <= 8) then effects[name](a) end
  end)
  return code
end

eachEffect(3, function(name, a) effects[name](a) end)
return CODE.Restored
