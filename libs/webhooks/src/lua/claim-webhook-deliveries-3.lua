--[[
  Claims the deliveries that are due: each is pushed back in the due ZSET to when the claim lapses
  (so a dispatcher that dies mid-attempt leaves it to the next one: at least once), counts one more
  attempt and remembers its claim token, which its settling and its request
  (begin-webhook-request-1.lua) must present.

  KEYS[1] due ZSET (delivery id -> when it may be attempted, ms)
  KEYS[2] pending SET (the backlog): a claimed delivery is added (it is pending, and one written
          before the set was kept is counted from its first claim on); one whose hash is gone leaves it
  KEYS[3] heads hash (delivery id of each queue head -> '<subscription id>:<mission id>',
          includes/mission-queues.lua)
  All share the {p} hash tag, and so do the keys derived from ARGV[4] and ARGV[6].

  ARGV[1] now (ms)
  ARGV[2] when the claim lapses (ms)
  ARGV[3] most deliveries to claim
  ARGV[4] prefix of delivery hashes
  ARGV[5] claim token
  ARGV[6] prefix of the per-(subscription, mission) queues
  ARGV[7] most attempts to one receiver in flight at once (the dispatcher's share per receiver)
  ARGV[8] most due deliveries to read (at least ARGV[3] are)
  ARGV[9] n, how many receivers the dispatcher has attempts in flight to
  ARGV[10..9+2n] receiver, attempts to it in flight: pairs
  ARGV[10+2n..] subscription id, its receiver: pairs; a subscription not named is a receiver of its own

  Result: flat list, per claimed delivery: id, subscription id, mission id, body, attempts,
  first try (ms: the first claim's now since it was written or redelivered, set here, with that
  claim's token as firstAttemptClaim: the retry period of a delivery that sends nothing counts from
  it), attempts when it was last redelivered
  (0 = never; its backoff and retry period count from there, redeliver-webhook-delivery-4.lua),
  tries retried without sending anything since the last request made (0 = none; they add to its
  backoff, not to its attempts), first request ('' = none made since it was written or
  redelivered: the claim of the first request, which begin-webhook-request-1.lua records before
  that request is made; the retry period of its requests counts from it).
  The attempt is counted here, before it is made; settle-webhook-delivery-8.lua takes it back when
  nothing was sent. A claim that lapsed unsettled (its token still in the hash) is judged here, when
  the delivery is claimed again: one that recorded its request (requestClaim is its token,
  begin-webhook-request-1.lua, before every request) keeps its attempt, as that request may have
  reached the receiver; one that recorded none sent nothing, and never will (that script refuses a
  lapsed claim), so its attempt is taken back and it counts in unsentTries, a try that sent
  nothing: the attempts are the requests that may have been made, whatever lapsed.

  Shares: a due delivery of a subscription whose receiver has ARGV[7] attempts in flight (those
  given in ARGV[10..] and those claimed here) is passed over, so a receiver that never answers holds
  up only its own deliveries, not every subscription's behind its backlog in due order, however
  many subscriptions send to it. A claim reads at most
  ARGV[8] due deliveries, in due order; when it read that many and still has slots free, those it
  passed over move to just after now (now + 1 ms, the due ones all being at or before now), so the
  next claim reads past them: a backlog of any length of one subscription never hides another's.
  They stay due (it is their order among the due ones that changes), their nextAt is kept, and as
  only the head of a (subscription, mission) queue is ever due, log order per mission stays.

  A due id without a delivery hash (deleted by an operator, evicted) is dropped from the ZSET and
  the backlog, and leaves its (subscription, mission) queue as a settled delivery does, so the next
  one of its mission becomes due: only a head is due, and one that never left would hold up its
  mission's webhooks for ever. The hash that named its queue is gone, so the queue is found in the
  heads hash, which the outbox and the settling keep for every head (includes/mission-queues.lua).
  A head of before that hash was kept is recorded as it is claimed; one never claimed since, and
  a redelivered delivery (due outside any queue), is only dropped.
]]
--- @include "includes/mission-queues"

local limit, share = tonumber(ARGV[3]), tonumber(ARGV[7])
local read = math.max(limit, tonumber(ARGV[8]))
local firstReceiverOf = 10 + 2 * tonumber(ARGV[9])
local inFlight = {}
for i = 10, firstReceiverOf - 1, 2 do inFlight[ARGV[i]] = tonumber(ARGV[i + 1]) end
local receiverOf = {}
for i = firstReceiverOf, #ARGV, 2 do receiverOf[ARGV[i]] = ARGV[i + 1] end

local claimed = {}
local count = 0
local passedOver = {}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, read)
for _, id in ipairs(ids) do
  if count == limit then break end
  local key = ARGV[4] .. id
  local subscription = redis.call('HGET', key, 'subscription')
  if not subscription then
    local queueName = redis.call('HGET', KEYS[3], id)
    if queueName then
      leaveMissionQueue(id, ARGV[6] .. queueName, queueName, KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[4])
    else
      redis.call('ZREM', KEYS[1], id)
      redis.call('SREM', KEYS[2], id)
    end
  elseif (inFlight[receiverOf[subscription] or subscription] or 0) >= share then
    passedOver[#passedOver + 1] = id
  else
    local receiver = receiverOf[subscription] or subscription
    inFlight[receiver] = (inFlight[receiver] or 0) + 1
    count = count + 1
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    redis.call('SADD', KEYS[2], id)
    -- A claim still there lapsed unsettled: one that recorded no request made none (and never
    -- will: begin-webhook-request-1.lua refuses a lapsed claim), so its attempt is taken back and
    -- it is a try that sent nothing; one that recorded its request keeps it, and the tries unsent
    -- before it, which count since the last request made, are none now.
    local lapsed = redis.call('HGET', key, 'claim')
    local attempts
    if lapsed and redis.call('HGET', key, 'requestClaim') ~= lapsed then
      attempts = tonumber(redis.call('HGET', key, 'attempts')) or 0
      redis.call('HINCRBY', key, 'unsentTries', 1)
    else
      if lapsed then redis.call('HDEL', key, 'unsentTries') end
      attempts = redis.call('HINCRBY', key, 'attempts', 1)
    end
    if redis.call('HSETNX', key, 'firstAttemptAt', ARGV[1]) == 1 then redis.call('HSET', key, 'firstAttemptClaim', ARGV[5]) end
    redis.call('HSET', key, 'claim', ARGV[5])
    local fields = redis.call('HMGET', key, 'mission', 'body', 'firstAttemptAt', 'attemptsAtRedelivery', 'unsentTries', 'firstRequestAt')
    local queueName = subscription .. ':' .. fields[1]
    if redis.call('LINDEX', ARGV[6] .. queueName, 0) == id then redis.call('HSET', KEYS[3], id, queueName) end
    table.insert(claimed, id)
    table.insert(claimed, subscription)
    table.insert(claimed, fields[1])
    table.insert(claimed, fields[2])
    table.insert(claimed, attempts)
    table.insert(claimed, fields[3])
    table.insert(claimed, fields[4] or '0')
    table.insert(claimed, fields[5] or '0')
    table.insert(claimed, fields[6] or '')
  end
end

-- Slots are free, and what was passed over may hide due deliveries after it: it moves behind them.
-- (Fewer read is everything due, and with every slot taken nothing more is needed: nothing moves.)
if count < limit and #ids == read then
  for _, id in ipairs(passedOver) do redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[1]) + 1, id) end
end
return claimed
