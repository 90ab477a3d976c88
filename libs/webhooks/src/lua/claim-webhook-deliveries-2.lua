--[[
  Claims the deliveries that are due: each is pushed back in the due ZSET to when the claim lapses
  (so a dispatcher that dies mid-attempt leaves it to the next one: at least once), counts one more
  attempt and remembers its claim token, which its settling must present.

  KEYS[1] due ZSET (delivery id -> when it may be attempted, ms)
  KEYS[2] pending SET (the backlog): a claimed delivery is added (it is pending, and one written
          before the set was kept is counted from its first claim on); one whose hash is gone leaves it

  ARGV[1] now (ms)
  ARGV[2] when the claim lapses (ms)
  ARGV[3] most deliveries to claim
  ARGV[4] prefix of delivery hashes (same {p} hash tag)
  ARGV[5] claim token

  Result: flat list, per claimed delivery: id, subscription id, mission id, body, attempts,
  first attempt (ms). A due id without a delivery hash (expired) is dropped from the ZSET.
  The attempt is counted here, before it is made; settle-webhook-delivery-6.lua takes it back when
  nothing was sent.
]]
local claimed = {}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  local key = ARGV[4] .. id
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', KEYS[1], id)
    redis.call('SREM', KEYS[2], id)
  else
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    redis.call('SADD', KEYS[2], id)
    local attempts = redis.call('HINCRBY', key, 'attempts', 1)
    redis.call('HSETNX', key, 'firstAttemptAt', ARGV[1])
    redis.call('HSET', key, 'claim', ARGV[5])
    local fields = redis.call('HMGET', key, 'subscription', 'mission', 'body', 'firstAttemptAt')
    table.insert(claimed, id)
    table.insert(claimed, fields[1])
    table.insert(claimed, fields[2])
    table.insert(claimed, fields[3])
    table.insert(claimed, attempts)
    table.insert(claimed, fields[4])
  end
end
return claimed
