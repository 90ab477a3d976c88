--[[
  Tidying of a subscription's two delivery lists, in one place: the outbox sweeps a little as it
  writes deliveries (enqueue-webhook-deliveries-6.lua), a death prunes the long-dead
  (settle-webhook-delivery-8.lua), and the dispatcher does both on its sweep tick
  (sweep-webhook-deliveries-3.lua), so the lists shrink also when no delivery is written or dies.

  Delivered and dead deliveries expire (their retention times), but their ids would stay in the
  lists for ever. Every key named here (the delivery hashes from deliveryPrefix too) shares the
  {p} hash tag: one Redis Cluster slot.
]]

-- Checks up to `limit` entries of the delivery list `list` (ZSET, by sequence) of `subscription`,
-- from the sequence number where the last sweep stopped (field `subscription` of the hash
-- `cursors`) and round again from the start at its end, and drops those whose delivery is gone.
local function sweepDeliveryList(list, cursors, subscription, limit, deliveryPrefix)
  local from = redis.call('HGET', cursors, subscription) or '0'
  local rows = redis.call('ZRANGEBYSCORE', list, '(' .. from, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
  for r = 1, #rows, 2 do
    if redis.call('EXISTS', deliveryPrefix .. rows[r]) == 0 then redis.call('ZREM', list, rows[r]) end
  end
  -- Reached the end of the list: the next sweep starts again from its beginning.
  local to = #rows < 2 * limit and '0' or rows[#rows]
  -- Unchanged (an empty list, a deleted subscription's): nothing is written for it.
  if to ~= from then redis.call('HSET', cursors, subscription, to) end
end

-- Deletes up to `limit` deliveries of the dead list `dead` (ZSET, by when they died, ms) that died
-- longer than `retentionSeconds` before `now` (ms), with their hashes: one that died before dead
-- deliveries expired has no expiry of its own.
local function pruneDeadList(dead, now, retentionSeconds, limit, deliveryPrefix)
  local expired = redis.call('ZRANGEBYSCORE', dead, '-inf', tonumber(now) - 1000 * tonumber(retentionSeconds), 'LIMIT', 0, limit)
  for _, old in ipairs(expired) do
    redis.call('DEL', deliveryPrefix .. old)
    redis.call('ZREM', dead, old)
  end
end
