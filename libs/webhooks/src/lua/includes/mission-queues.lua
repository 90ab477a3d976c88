--[[
  The per-(subscription, mission) queues (LISTs of delivery ids, `<queue prefix><subscription
  id>:<mission id>`): only a queue's head is due, and the next becomes due when the head leaves, so
  a mission's webhooks go out in log order. The outbox heads a queue as it writes the first delivery
  (enqueue-webhook-deliveries-6.lua); the head leaves when it is settled done
  (settle-webhook-delivery-8.lua), or when the claim finds its delivery hash gone
  (claim-webhook-deliveries-3.lua).

  The heads hash (delivery id -> '<subscription id>:<mission id>') names the queue of each head:
  the delivery hash does too, but one deleted by an operator or evicted no longer can, and without
  its queue the head could never leave it, holding up every delivery of the mission behind it.
  Only heads are there (as many as the queues), and each is removed as its delivery leaves the queue.
  Every key named here shares the {p} hash tag: one Redis Cluster slot.
]]

-- `id` leaves the queue `queue` (named `queueName` in `heads`) and the due ZSET `due` for good (it
-- is done, or gone), and the backlog `pending`; the next in the queue becomes due at `now` (ms)
-- and is recorded as the head. `id` is popped only if it is the head: a redelivered delivery is
-- due outside its queue, and a settlement repeated after a lapsed claim must not pop another.
local function leaveMissionQueue(id, queue, queueName, due, pending, heads, now, deliveryPrefix)
  redis.call('ZREM', due, id)
  redis.call('SREM', pending, id)
  redis.call('HDEL', heads, id)
  if redis.call('LINDEX', queue, 0) == id then redis.call('LPOP', queue) end
  local nextId = redis.call('LINDEX', queue, 0)
  if not nextId then return end
  redis.call('HSET', heads, nextId, queueName)
  -- Due from now: its nextAt says so (it had none while it waited); one due already keeps its own.
  -- One whose hash is gone too becomes due all the same, for the next claim to pass over it.
  local nextKey = deliveryPrefix .. nextId
  if redis.call('ZADD', due, 'NX', now, nextId) == 1 and redis.call('EXISTS', nextKey) == 1 then
    redis.call('HSET', nextKey, 'nextAt', now)
  end
end
