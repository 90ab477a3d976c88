--[[
  Claims due write-backs: each is pushed back in the due ZSET to when the claim lapses, so a
  connector that dies mid-write-back leaves it to the next one (which finds the post, if it was
  made, by its marker, and does not post it again).

  KEYS[1] due ZSET (mission id -> when its write-back is due, ms)

  ARGV[1] now (ms)
  ARGV[2] when the claim lapses (ms)
  ARGV[3] most write-backs to claim

  Result: the claimed mission ids.
]]
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return ids
