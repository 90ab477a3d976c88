--[[
  The effects of a mission's append, in one place: append-mission-events.lua applies them with the
  events, restore-mission-effects-17.lua applies them again to a mission whose events were imported
  (or whose read model was rebuilt) without them. Each effect is its name, its argument count c and
  its c arguments in ARGV (see the effect list in append-mission-events.lua); a key argument is an
  index into KEYS.

  missionEffects(missionId, missionKey, stateJson) gives the table of effect functions for the
  mission (its hash at missionKey; stateJson is the state a mission message carries), each given
  the position in ARGV of its first argument. eachEffect(first, visit) walks the effects from
  ARGV[first] on. Needs includes/ready-membership (addToReady, removeFromReady) and
  includes/per-minute-counts (countPerMinute).
]]
--- @include "service-message"

-- The key named by ARGV[at] (an index into KEYS).
local function key(at)
  return KEYS[tonumber(ARGV[at])]
end

-- The ready-queue keys that lead an enqueue or dequeue effect's arguments, from ARGV[at].
local function readyQueueAt(at)
  return { ready = key(at), since = key(at + 1), byLevel = key(at + 2), bySkills = key(at + 3), skillSetPrefix = ARGV[at + 4] }
end

local function missionEffects(missionId, missionKey, stateJson)
  -- The trace fields of every message written from here on; the trace effect sets them.
  local traceFields = {}

  -- A service message's fields, with the step's trace fields, for the end of an XADD call.
  local function message(pattern, data)
    return serviceMessage(pattern, data, traceFields)
  end

  return {
    trace = function(a)
      traceFields = { 'traceparent', ARGV[a] }
      if ARGV[a + 1] ~= '' then
        traceFields[3] = 'tracestate'
        traceFields[4] = ARGV[a + 1]
      end
      redis.call('HSET', missionKey, MISSION_FIELDS.traceParent, ARGV[a])
    end,
    idempotency = function(a)
      redis.call('SET', key(a), missionId .. ' ' .. ARGV[a + 1], 'PX', ARGV[a + 2])
    end,
    ['require-lease'] = function(a)
      redis.call('ZREM', key(a), missionId)
      redis.call('HDEL', key(a + 1), missionId)
    end,
    -- Counted per minute when new, unless the field is '' (a restore: the enqueue was counted where it happened).
    enqueue = function(a)
      if addToReady(readyQueueAt(a), missionKey, missionId, ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8]) and ARGV[a + 10] ~= '' then
        countPerMinute(key(a + 9), ARGV[a + 10], 1)
      end
    end,
    dequeue = function(a)
      removeFromReady(readyQueueAt(a), missionKey, missionId)
    end,
    zadd = function(a)
      redis.call('ZADD', key(a), ARGV[a + 1], missionId)
    end,
    zrem = function(a)
      redis.call('ZREM', key(a), missionId)
    end,
    sadd = function(a)
      redis.call('SADD', key(a), missionId)
    end,
    hdel = function(a)
      redis.call('HDEL', key(a), missionId)
    end,
    ['hset-mission'] = function(a)
      redis.call('HSET', missionKey, ARGV[a], ARGV[a + 1])
    end,
    ['hdel-mission'] = function(a)
      redis.call('HDEL', missionKey, ARGV[a])
    end,
    hincrby = function(a)
      redis.call('HINCRBY', key(a), ARGV[a + 1], ARGV[a + 2])
    end,
    xadd = function(a)
      redis.call('XADD', key(a), '*', message(ARGV[a + 1], ARGV[a + 2]))
    end,
    ['xadd-mission'] = function(a)
      redis.call('XADD', key(a), '*', message(ARGV[a + 1], '{"mission":' .. stateJson .. '}'))
    end,
    nudge = function(a)
      if redis.call('SET', key(a + 1), '1', 'NX', 'PX', ARGV[a + 2]) then
        redis.call('XADD', key(a), '*', message(ARGV[a + 3], '{}'))
      end
    end,
  }
end

-- Calls visit(name, position of its first argument) for each effect from ARGV[first] on, in order,
-- skipping each by its own argument count; returns the first result visit gives.
local function eachEffect(first, visit)
  local i = first
  while i <= #ARGV do
    local result = visit(ARGV[i], i + 2)
    if result then return result end
    i = i + 2 + tonumber(ARGV[i + 1])
  end
end
