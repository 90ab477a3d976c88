--[[
  Records how an attempt of a claimed delivery ended: retry later, delivered, dead, or dropped (its
  subscription is gone). A delivery that is done (delivered, dead, dropped) leaves its
  (subscription, mission) queue, and the next one there becomes due (leaveMissionQueue,
  includes/mission-queues.lua).

  KEYS[1] the delivery hash
  KEYS[2] due ZSET
  KEYS[3] the delivery's (subscription, mission) queue
  KEYS[4] the subscription's dead ZSET
  KEYS[5] failing-since hash (subscription id -> ms of the first failure since the last success)
  KEYS[6] pending SET (the backlog): a delivery that is done leaves it
  KEYS[7] heads hash (delivery id of each queue head -> '<subscription id>:<mission id>')
  KEYS[8] subscription records hash (subscription id -> record JSON): one no longer there was
          deleted, while the attempt was in flight if the dispatcher found it when it sent
  All share the {p} hash tag.

  ARGV[1] delivery id
  ARGV[2] claim token (of the claim this attempt was made under)
  ARGV[3] outcome: retry | delivered | dead | drop
  ARGV[4] now (ms)
  ARGV[5] next attempt (ms; for retry)
  ARGV[6] response code of the attempt (0 = none)
  ARGV[7] error of the attempt ('' = none)
  ARGV[8] subscription id
  ARGV[9] what the attempt says of the endpoint: '1' it failed (counts towards disabling it), '0'
          it answered (delivered: the clock restarts), '' nothing (aborted at shutdown, or not
          made: a disabled subscription, a URL the target policy refused, a master key missing),
          so a deploy never restarts a failing endpoint's clock. The dispatcher disables an
          endpoint only after a '1', from the failingSince returned, and only while the clock
          still holds it (append-webhook-event-5.lua ARGV[7])
  ARGV[10] seconds a delivered delivery is kept
  ARGV[11] seconds a dead delivery is kept (listed and redeliverable)
  ARGV[12] prefix of delivery hashes (same {p} hash tag)
  ARGV[13] '1' when nothing was sent (the endpoint disabled, the target policy refused the URL, a
           secret or body that does not open, or needs a master key this process lacks): the
           attempt the claim counted is taken back and the last attempt's status and time stay
           those of the last request made; only lastError says why. One retried (a master key
           missing) counts a try in unsentTries, which its backoff adds to its attempts so the wait
           grows as for failed requests; a request made clears it (and see ARGV[15]: the
           dispatcher stopped before the request)
  ARGV[14] mission id (with ARGV[8], the queue's name in the heads hash)
  ARGV[15] '', or '1' when nothing was sent because the dispatcher stopped before the request
           (with ARGV[13] '1'): the claim is taken back whole, as if it had not been made. Besides
           its attempt, the firstAttemptAt and firstRequestAt this claim recorded (those whose
           firstAttemptClaim, firstRequestClaim is its token: not an earlier claim's of the same
           millisecond) are deleted, and neither lastError nor unsentTries changes: a shutdown is
           no try, and the retry period must not count from it

  A dead delivery expires after ARGV[11] s, and each death deletes up to PRUNE.batch deliveries of
  the subscription that died longer ago than that (pruneDeadList, includes/delivery-lists.lua, with
  their hashes: one that died before dead deliveries expired has no expiry of its own), so a
  subscription that keeps failing, or a disabled one still given deliveries, holds a bounded
  number. Once none dies, the dispatcher's sweep tick (sweep-webhook-deliveries-3.lua) prunes them.

  A delivery whose subscription is gone is dropped, whatever the attempt came to, and says nothing
  of the endpoint's failure clock. The delete cleans up once (the clock with its event, the dead
  and delivery lists in WebhookOutbox.forget): what an attempt in flight then settled would outlive
  it, a dead list of an id that no longer exists (no expiry), its failure clock, and the delivery.

  Result: code from CODE (SettleCode in webhook-outbox.ts)
    { Settled, failingSince }  failingSince = ms since the endpoint fails, 0 when it does not
    { Dropped }                its subscription is gone (ARGV[3] drop, or deleted during the attempt)
    { Stale }                  the claim lapsed and another dispatcher holds the delivery; nothing written
]]
--- @include "includes/delivery-lists"
--- @include "includes/mission-queues"

local id = ARGV[1]
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[2] then return { CODE.Stale } end
local outcome, now = ARGV[3], ARGV[4]

local function leaveQueue()
  leaveMissionQueue(id, KEYS[3], ARGV[8] .. ':' .. ARGV[14], KEYS[2], KEYS[6], KEYS[7], now, ARGV[12])
end

if outcome == 'drop' or redis.call('HEXISTS', KEYS[8], ARGV[8]) == 0 then
  redis.call('DEL', KEYS[1])
  leaveQueue()
  return { CODE.Dropped }
end

redis.call('HDEL', KEYS[1], 'claim')
if ARGV[13] == '1' then
  redis.call('HINCRBY', KEYS[1], 'attempts', -1)
  if ARGV[15] ~= '' then
    for _, field in ipairs({ 'firstAttempt', 'firstRequest' }) do
      if redis.call('HGET', KEYS[1], field .. 'Claim') == ARGV[2] then redis.call('HDEL', KEYS[1], field .. 'At', field .. 'Claim') end
    end
  else
    redis.call('HSET', KEYS[1], 'lastError', ARGV[7])
    if outcome == 'retry' then redis.call('HINCRBY', KEYS[1], 'unsentTries', 1) end
  end
else
  redis.call('HSET', KEYS[1], 'lastStatus', ARGV[6], 'lastError', ARGV[7], 'lastAttemptAt', now)
  redis.call('HDEL', KEYS[1], 'unsentTries')
end
if ARGV[9] == '1' then
  redis.call('HSETNX', KEYS[5], ARGV[8], now)
elseif ARGV[9] == '0' then
  redis.call('HDEL', KEYS[5], ARGV[8])
end

if outcome == 'retry' then
  redis.call('HSET', KEYS[1], 'nextAt', ARGV[5])
  redis.call('ZADD', KEYS[2], ARGV[5], id)
elseif outcome == 'delivered' then
  redis.call('HSET', KEYS[1], 'status', 'delivered', 'deliveredAt', now)
  redis.call('HDEL', KEYS[1], 'nextAt')
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[10]))
  leaveQueue()
else
  redis.call('HSET', KEYS[1], 'status', 'dead', 'deadAt', now)
  redis.call('HDEL', KEYS[1], 'nextAt')
  redis.call('ZADD', KEYS[4], now, id)
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[11]))
  pruneDeadList(KEYS[4], now, ARGV[11], PRUNE.batch, ARGV[12])
  leaveQueue()
end
return { CODE.Settled, tonumber(redis.call('HGET', KEYS[5], ARGV[8]) or '0') }
