--[[
  Hands the best ready missions to an orchestrator: moves up to ARGV[1] missions from the ready
  queue to the leased set (score = lease deadline, owner = the lease id) and returns their states.
  The deadline is taken from Redis's clock (ARGV[8] only stands in for it in tests), the clock the
  append's lease check and the expiry read too, so no service's host clock has to agree with it.
  The orchestrator runs this itself, so a lease is one round trip; a lease whose caller dies before
  it assigns runs out and the missions return to the ready queue (return-leased-missions-8.lua).

  When the request names the free agents (ARGV[6] > 0), only missions one of them can take are
  leased, best first, one per free slot: the skill sets in the queue that some free agent covers
  (from the ready-by-skills counts) are read from their own ready queues (up to ARGV[1] each),
  merged by score, and each mission goes to the first free agent with all its skills. Missions
  nobody free can serve stay where they are, however many there are: they neither block the ones
  behind them nor travel to the orchestrator and back.

  A mission whose hash no longer says how it is counted (its level and skill set: see uncountable
  in ready-membership.lua) is passed over: its key of another Redis type (replaced by hand), its
  hash deleted, or a whole hash without its queue fields. Taken out of the ready queue, it would
  stay in its skill set's queue and counted, and every later lease would take it again. It stays
  ready and counted, and is named in the result with why. It takes no place in the batch nor a
  free slot: the missions behind it are read in its stead, so a damaged head of the queue shrinks
  no lease. Its own hash read tells it (readMissionHash, the read of each mission taken anyway),
  before anything is written. A lease passes over at most LEASE.maxPassedOver such missions and
  leases only what it found before the last of them: the missions behind more of them wait until
  they are mended, rather than every lease (every look of every orchestrator) reading past all.

  A member of a skill set's ready queue that is not in the ready zset (a stray: left by a key
  deleted or edited by hand, which no count or ready mission names, so the ready-count recount
  never finds it) is taken out of that queue when a free agent would take it (one ZSCORE per
  mission about to be picked, not per mission read) and not leased: removeFromReady would leave
  it there, and every later lease would take it again. It takes no place in the batch nor a free
  slot, and is not named: it is no mission of the ready queue.

  KEYS[1] ready zset (score = enqueued at ms - head start ms; lowest first)
  KEYS[2] leased zset (score = lease deadline, ms)
  KEYS[3] counters hash
  KEYS[4] ready-since zset (member id, score = enqueued at)
  KEYS[5] ready-by-level hash
  KEYS[6] per-minute counters hash
  KEYS[7] ready-by-skills hash (comma-separated skill set -> ready missions needing it)
  KEYS[8] lease owners hash (mission id -> lease id: only that lease may assign the mission)

  ARGV[1] how many missions at most
  ARGV[2] lease duration (ms): the deadline is now + this
  ARGV[3] mission hash key prefix (missions share the queue's hash tag)
  ARGV[4] lease id
  ARGV[5] per-minute field for the dequeued count (d:<minute>)
  ARGV[6] number of free agents a (0: take the best ARGV[1] missions, whatever their skills)
  ARGV[7] key prefix of the ready queues per skill set (the set's skills, comma-separated, follow it)
  ARGV[8] now (ms); '' = Redis's clock (TIME)
  ARGV[9..] per free agent: its free slots, its number of skills k, then its k skills

  Result: two arrays:
    1. per leased mission, best first, its id, its state JSON (nil: its hash has no `s`) and its
       ready score (the orchestrator merges the leases of several partitions by that score)
    2. per mission passed over, best first, its id and why ('wrong-type', 'no-read-model',
       'no-queue-fields': uncountable in ready-membership.lua)
  Needs the constant LEASE = { maxPassedOver } (ready-queue.ts).
]]
--- @include "@redis/includes/redis-clock"
--- @include "@event-store/includes/ready-membership"
--- @include "@event-store/includes/per-minute-counts"

local max = tonumber(ARGV[1])
local agentCount = tonumber(ARGV[6])
-- The missions to lease, best first, each with its score and what its hash holds (level, skill set, state).
local picked = {}
-- Flat: id, why.
local passedOver = {}
local passedOverCount = 0
-- Picks the mission if its hash says how it is counted and, when it was read from the queue of
-- skill set `needed`, counts it under that set: 'picked'. One that cannot be counted is passed over
-- ('passed'); one counted under another set is a stray of that queue ('elsewhere': a hand edit put
-- it there, and leasing it through it would hand it to an agent without its skills, or twice).
local function pick(id, score, needed)
  local held = readMissionHash(ARGV[3] .. id, MISSION_FIELDS.priorityLevel, MISSION_FIELDS.skillSet, MISSION_FIELDS.state)
  local why = uncountable(held, 2, 3)
  if why then
    passedOverCount = passedOverCount + 1
    passedOver[2 * passedOverCount - 1] = id
    passedOver[2 * passedOverCount] = why
    return 'passed'
  end
  if needed and held[2] ~= needed then return 'elsewhere' end
  picked[#picked + 1] = { id = id, score = score, held = held }
  return 'picked'
end
-- Passed over as many as a lease may: it reads no further.
local function passedOverEnough()
  return passedOverCount >= LEASE.maxPassedOver
end
if agentCount == 0 then
  -- The best max missions: each page reads as many more as were passed over in the one before.
  local from = 0
  while #picked < max and not passedOverEnough() do
    local want = max - #picked
    local rows = redis.call('ZRANGE', KEYS[1], from, from + want - 1, 'WITHSCORES')
    for r = 1, #rows, 2 do
      if passedOverEnough() then break end
      pick(rows[r], rows[r + 1])
    end
    if #rows < 2 * want then break end
    from = from + want
  end
else
  local agents = {}
  local free = 0
  local at = 9
  for a = 1, agentCount do
    local slots = tonumber(ARGV[at])
    local k = tonumber(ARGV[at + 1])
    local skills = {}
    for j = 1, k do skills[ARGV[at + 1 + j]] = true end
    agents[a] = { slots = slots, skills = skills }
    free = free + slots
    at = at + 2 + k
  end
  local function agentFits(agent, needed)
    for skill in string.gmatch(needed, '[^,]+') do
      if not agent.skills[skill] then return false end
    end
    return true
  end
  -- Score order, then id, as a zset orders ties.
  local function before(x, y)
    if x.score ~= y.score then return x.score < y.score end
    return x.id < y.id
  end
  -- The best missions of every skill set some free agent covers, merged by score.
  local candidates = {}
  -- Per skill set read, how many of its missions were read.
  local read = {}
  local function readSkillSet(needed, from, to)
    local rows = redis.call('ZRANGE', ARGV[7] .. needed, from, to, 'WITHSCORES')
    read[needed] = to + 1
    local found = {}
    for r = 1, #rows, 2 do
      found[#found + 1] = { id = rows[r], score = tonumber(rows[r + 1]), rawScore = rows[r + 1], needed = needed }
    end
    return found
  end
  local bySkills = redis.call('HGETALL', KEYS[7])
  for s = 1, #bySkills, 2 do
    local needed = bySkills[s]
    if tonumber(bySkills[s + 1]) > 0 then
      for a = 1, agentCount do
        if agentFits(agents[a], needed) then
          for _, candidate in ipairs(readSkillSet(needed, 0, max - 1)) do candidates[#candidates + 1] = candidate end
          break
        end
      end
    end
  end
  table.sort(candidates, before)
  local c = 1
  while c <= #candidates and #picked < max and free > 0 and not passedOverEnough() do
    local candidate = candidates[c]
    for a = 1, agentCount do
      local agent = agents[a]
      if agent.slots > 0 and agentFits(agent, candidate.needed) then
        -- A stray of its skill set's queue (not ready, or ready under another skill set: left by a hand
        -- edit or a lost key) leaves that queue, uncounted (no count of that set names it), and takes
        -- no place: removeFromReady would not touch it there.
        local outcome = 'stray'
        if redis.call('ZSCORE', KEYS[1], candidate.id) then outcome = pick(candidate.id, candidate.rawScore, candidate.needed) end
        if outcome == 'stray' or outcome == 'elsewhere' then
          redis.call('ZREM', ARGV[7] .. candidate.needed, candidate.id)
          -- The queue's unread missions moved up one rank.
          read[candidate.needed] = read[candidate.needed] - 1
        end
        if outcome == 'picked' then
          agent.slots = agent.slots - 1
          free = free - 1
        else
          -- Passed over or stray: the next mission of its skill set joins the candidates in its stead, in score order.
          -- The candidates after this one are in that order: the first not before it is found by halving.
          local more = readSkillSet(candidate.needed, read[candidate.needed], read[candidate.needed])[1]
          if more then
            local low, high = c + 1, #candidates + 1
            while low < high do
              local middle = math.floor((low + high) / 2)
              if before(candidates[middle], more) then low = middle + 1 else high = middle end
            end
            table.insert(candidates, low, more)
          end
        end
        break
      end
    end
    c = c + 1
  end
end
local queue = { ready = KEYS[1], since = KEYS[4], byLevel = KEYS[5], bySkills = KEYS[7], skillSetPrefix = ARGV[7] }
local leased = {}
local deadline = 0
if #picked > 0 then deadline = (ARGV[8] ~= '' and tonumber(ARGV[8]) or redisNowMs()) + tonumber(ARGV[2]) end
for i, mission in ipairs(picked) do
  removeFromReady(queue, ARGV[3] .. mission.id, mission.id, mission.held)
  redis.call('ZADD', KEYS[2], deadline, mission.id)
  redis.call('HSET', KEYS[8], mission.id, ARGV[4])
  -- Its id too: a state changed by hand past reading names none, and the caller names the mission.
  leased[3 * i - 2] = mission.id
  leased[3 * i - 1] = mission.held[3]
  leased[3 * i] = mission.score
end
if #picked > 0 then
  redis.call('HINCRBY', KEYS[3], 'dequeued', #picked)
  countPerMinute(KEYS[6], ARGV[5], #picked)
end
return { leased, passedOver }
