--[[
  One batch of the ready queue, for the comparison of its counts, ready-since times and skill-set
  queues with it (ready-counts.ts): reads the ready missions ranked ARGV[1] to ARGV[2], counts them
  by the level and the skill set their hashes record, checks that each is in its skill set's queue
  with its ready score and in the ready-since zset at the enqueue time its hash records, as
  ready-membership.lua puts it there. Reads only; done in Redis, as a hash read per mission from the
  client costs several times as much.

  KEYS[1] the ready zset
  KEYS[2] the ready-since zset (score = enqueued at, ms)
  ARGV[1] ARGV[2] the first and the last rank to read
  ARGV[3] the mission hash key prefix, ARGV[4] the key prefix of the skill sets' ready queues (the
          set's skills follow it): both share the zset's hash tag, so this touches one Cluster slot

  Result: { read, levels, skills, misplaced, unleveled, unskilled, wrongType, untimed }
    read       how many ready missions were read (fewer than asked: the queue's end)
    levels     level, count, ...: the missions read, by their hash's MISSION_FIELDS.priorityLevel
    skills     skills, count, ...: by their hash's MISSION_FIELDS.skillSet
    misplaced  id, skills, ready score, its score in its skill set's queue ('' when not in it), ...:
               each mission its skill set's queue does not hold with its ready score
    unleveled  the ids of those whose hash records no level; unskilled: no skill set (each counted
               nowhere, as ready-membership.lua counts them)
    wrongType  the ids of those whose hash holds another type than a hash: nothing could be read
    untimed    id, its hash's MISSION_FIELDS.enqueuedAt ('' none), its ready-since score ('' none),
               ...: each mission ready-since lacks, or holds at another time than its hash records
               (one whose hash records none is held to nothing but being there)
]]
local rows = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES')
local levels, skills = {}, {}
local misplaced, unleveled, unskilled, wrongType, untimed = {}, {}, {}, {}, {}
for r = 1, #rows, 2 do
  local id, score = rows[r], rows[r + 1]
  local queued = redis.pcall('HMGET', ARGV[3] .. id, MISSION_FIELDS.priorityLevel, MISSION_FIELDS.skillSet, MISSION_FIELDS.enqueuedAt)
  if queued.err then
    wrongType[#wrongType + 1] = id
  else
    local level, skillSet, enqueuedAt = queued[1], queued[2], queued[3]
    if level then levels[level] = (levels[level] or 0) + 1 else unleveled[#unleveled + 1] = id end
    if skillSet then
      skills[skillSet] = (skills[skillSet] or 0) + 1
      local held = redis.pcall('ZSCORE', ARGV[4] .. skillSet, id)
      -- A queue of another type is named by the ZCARD that follows the batches.
      if type(held) == 'table' and held.err then held = false end
      if held ~= score then
        misplaced[#misplaced + 1] = id
        misplaced[#misplaced + 1] = skillSet
        misplaced[#misplaced + 1] = score
        misplaced[#misplaced + 1] = held or ''
      end
    else
      unskilled[#unskilled + 1] = id
    end
    -- Compared as numbers: the time is written as a number, and read back from the zset as a double.
    local since = redis.call('ZSCORE', KEYS[2], id)
    if not since or (enqueuedAt and tonumber(since) ~= tonumber(enqueuedAt)) then
      untimed[#untimed + 1] = id
      untimed[#untimed + 1] = enqueuedAt or ''
      untimed[#untimed + 1] = since or ''
    end
  end
end
local function flat(counts)
  local out = {}
  for name, count in pairs(counts) do
    out[#out + 1] = name
    out[#out + 1] = count
  end
  return out
end
return { #rows / 2, flat(levels), flat(skills), misplaced, unleveled, unskilled, wrongType, untimed }
