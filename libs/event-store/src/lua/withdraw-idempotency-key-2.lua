--[[
  Withdraws an idempotency key that no create has used: its record then names the mission id
  with a fingerprint that no create body has, so append-mission-events.lua refuses every create
  with the key, as one with another body (IdempotencyMismatch). The record lives as long as every
  idempotency record (IDEMPOTENCY_TTL_SECONDS, the window within which idempotency holds at all),
  so a create held up for less than that still meets it, and the keys of a schedule skipped at
  every due time go as every other key does. A key that a create used first is left as it is.

  KEYS[1] the key's idempotency record
  KEYS[2] the hash of the mission that the key names (same partition)

  ARGV[1] the mission id that the key names
  ARGV[2] the fingerprint of a withdrawn key (WITHDRAWN_FINGERPRINT in mission-store.ts)
  ARGV[3] how long the record lives, ms (IDEMPOTENCY_TTL_SECONDS)

  Result: a code from CODE (WithdrawCode in mission-store.ts)
    Withdrawn  no create can use the key while the record lives (withdrawn now, or before: that
               record's life is left as it is)
    Created    a create used the key first: its record, or its mission, exists
]]
local withdrawn = ARGV[1] .. ' ' .. ARGV[2]
local record = redis.call('GET', KEYS[1])
if record == withdrawn then return CODE.Withdrawn end
if record or redis.call('EXISTS', KEYS[2]) == 1 then return CODE.Created end
redis.call('SET', KEYS[1], withdrawn, 'PX', ARGV[3])
return CODE.Withdrawn
