--[[
  The webhook outbox: writes the deliveries a batch of mission events gives and moves the outbox's
  checkpoint for the log stream they came from, in one step, so each event's deliveries are written
  exactly once, whoever applies the batch and however often a crash makes it read the batch again.

  KEYS[1] checkpoint hash: field <log stream key> = id of the last log entry applied from it,
          field <log stream key>|entries = log entries consumed from it
  KEYS[2] due ZSET (delivery id -> when it may be attempted, ms)
  KEYS[3] sequence counter (orders a subscription's deliveries)
  KEYS[4] list sweep hash: subscription id -> sequence number its delivery list was swept up to
  KEYS[5] pending SET (ids of the deliveries not yet delivered or dead: the backlog)
  KEYS[6] heads hash (delivery id of each queue head -> '<subscription id>:<mission id>',
          includes/mission-queues.lua)
  All keys, those derived from the prefixes too, share the {p} hash tag (one Redis Cluster slot).

  ARGV[1] log stream key
  ARGV[2] checkpoint the batch was read after ('' = from the start of the stream)
  ARGV[3] id of the batch's last log entry: the new checkpoint
  ARGV[4] log entries in the batch
  ARGV[5] now (ms)
  ARGV[6] prefix of delivery hashes
  ARGV[7] prefix of the per-(subscription, mission) queues
  ARGV[8] prefix of the per-subscription delivery lists
  ARGV[9..] deliveries, in log order, each: delivery id, subscription id, mission id, type, body

  A delivery is due at once only when it heads its (subscription, mission) queue; the ones behind
  it become due as it is settled (settle-webhook-delivery-8.lua), which keeps log order per mission.
  Only a head gets a nextAt and an entry in the heads hash: the others wait for an earlier delivery
  of the same mission, and settle-webhook-delivery-8.lua sets theirs when it is their turn.

  Delivered and dead deliveries expire (their retention times), but a subscription's delivery list
  would keep their ids: each delivery written sweeps SWEEP.perWrite more entries of its
  subscription's list (sweepDeliveryList, includes/delivery-lists.lua), from where the last sweep
  stopped and round again from the start, and drops those whose delivery is gone. While deliveries
  are written the list so holds at most about SWEEP.perWrite / (SWEEP.perWrite - 1) times the
  deliveries that exist; once none are, the dispatcher's sweep tick (sweep-webhook-deliveries-3.lua)
  goes on with it.

  Result: code from CODE (ProjectionApplyCode in projection-script.ts, @app/projections)
    { Applied, written }    written = deliveries written (a delivery already there is not written again)
    { Stale, checkpoint }   the checkpoint is not ARGV[2] (another runner moved it); nothing written
]]
--- @include "@projections/includes/projection-checkpoint"
--- @include "includes/delivery-lists"

local stale = staleCheckpoint(KEYS[1])
if stale then return { CODE.Stale, stale } end

local written = 0
local writtenFor = {}
local subscriptions = {}
for i = 9, #ARGV, 5 do
  local id, subscription, mission = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local key = ARGV[6] .. id
  if redis.call('EXISTS', key) == 0 then
    local sequence = redis.call('INCR', KEYS[3])
    redis.call('HSET', key, 'subscription', subscription, 'mission', mission, 'type', ARGV[i + 3], 'body', ARGV[i + 4],
      'status', 'pending', 'attempts', 0, 'createdAt', ARGV[5])
    redis.call('ZADD', ARGV[8] .. subscription, sequence, id)
    redis.call('SADD', KEYS[5], id)
    local queueName = subscription .. ':' .. mission
    if redis.call('RPUSH', ARGV[7] .. queueName, id) == 1 then
      redis.call('ZADD', KEYS[2], ARGV[5], id)
      redis.call('HSET', key, 'nextAt', ARGV[5])
      redis.call('HSET', KEYS[6], id, queueName)
    end
    written = written + 1
    if not writtenFor[subscription] then subscriptions[#subscriptions + 1] = subscription end
    writtenFor[subscription] = (writtenFor[subscription] or 0) + 1
  end
end

for _, subscription in ipairs(subscriptions) do
  sweepDeliveryList(ARGV[8] .. subscription, KEYS[4], subscription, SWEEP.perWrite * writtenFor[subscription], ARGV[6])
end
moveCheckpoint(KEYS[1])
return { CODE.Applied, written }
