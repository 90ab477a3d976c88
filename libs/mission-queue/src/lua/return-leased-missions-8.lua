--[[
  Puts leased missions back into the ready queue with the score they had, either because their
  lease ran out (ARGV[1] = 'expired': every lease whose deadline is past) or because the
  orchestrator hands them back (ARGV[1] = 'released': the ids in ARGV[9..]). Missions no longer
  leased (already assigned) are left alone. When any mission returns, a message (pattern
  ARGV[7], data a QueueReady: {"<ARGV[8]>": n}) tells the orchestrators to pull again.

  A mission whose hash no longer says where it was queued (returnToReady's uncountable: its key
  of another Redis type, replaced by hand; its hash deleted; or a hash without its queue fields)
  leaves its lease all the same but is not queued: its score, time, level and skill set went with
  its hash, and queued without them it would be counted nowhere, which a later lease would
  uncount. It is named in the result, with why, and waits outside the queue, as the lease
  uncounted it, until `replay rebuild` (after a `DEL` of a key of another type) writes it again,
  which queues it as its events put it (a queued mission in neither the ready queue nor a lease).
  Left leased, every sweep would find it again.

  KEYS[1] ready zset
  KEYS[2] leased zset
  KEYS[3] the ready-work message's stream (its pattern's route)
  KEYS[4] counters hash
  KEYS[5] ready-since zset
  KEYS[6] ready-by-level hash
  KEYS[7] ready-by-skills hash
  KEYS[8] lease owners hash

  ARGV[1] 'expired' | 'released'
  ARGV[2] now (ms): which leases ran out, and the time a mission without a recorded one is queued
          at; '' = Redis's clock (TIME), the clock lease deadlines are set by
  ARGV[3] mission hash key prefix
  ARGV[4] at most this many missions, for 'expired'
  ARGV[5] key prefix of the ready queues per skill set
  ARGV[6] for 'released': the lease request the missions were leased to ('' = whichever); a
          mission leased to another request since (a stale hand-back) stays with that one
  ARGV[7] the pattern of the ready-work message ('' = write none: the caller knows already)
  ARGV[8] the field of its payload that counts the returned missions
  ARGV[9..] mission ids, for 'released'

  Result: two values: the number of missions returned to ready, and per mission that left its
  lease without being queued, its id and why ('wrong-type', 'no-read-model', 'no-queue-fields')
]]
--- @include "@event-store/includes/ready-membership"
--- @include "@redis/includes/redis-clock"
--- @include "@event-store/includes/service-message"

local queue = { ready = KEYS[1], since = KEYS[5], byLevel = KEYS[6], bySkills = KEYS[7], skillSetPrefix = ARGV[5] }
local now = ARGV[2] ~= '' and tonumber(ARGV[2]) or redisNowMs()
local ids
if ARGV[1] == 'expired' then
  ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
else
  ids = {}
  for i = 9, #ARGV do
    if ARGV[6] == '' or redis.call('HGET', KEYS[8], ARGV[i]) == ARGV[6] then ids[#ids + 1] = ARGV[i] end
  end
end
local returned = 0
local leftOut = {}
for _, id in ipairs(ids) do
  if redis.call('ZREM', KEYS[2], id) == 1 then
    redis.call('HDEL', KEYS[8], id)
    local added, why = returnToReady(queue, ARGV[3] .. id, id, now)
    if added == nil then
      leftOut[#leftOut + 1] = id
      leftOut[#leftOut + 1] = why
    else
      returned = returned + 1
    end
  end
end
if returned > 0 then
  if ARGV[1] == 'expired' then redis.call('HINCRBY', KEYS[4], 'leaseExpired', returned) end
  -- Not part of a mission's step, so it continues no trace.
  if ARGV[7] ~= '' then redis.call('XADD', KEYS[3], '*', serviceMessage(ARGV[7], cjson.encode({ [ARGV[8]] = returned }), {})) end
end
return { returned, leftOut }
