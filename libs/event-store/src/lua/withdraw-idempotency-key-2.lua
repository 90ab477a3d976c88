--[[
  Withdraws an idempotency key that no create has used: its record then names the mission id
  with a fingerprint that no create body has, so append-mission-events.lua refuses every create
  with the key, as one with another body (IdempotencyMismatch). The record lives as long as every
  idempotency record (IDEMPOTENCY_TTL_SECONDS, the window within which idempotency holds at all),
  so a create held up for less than that still meets it, and the keys of a schedule skipped at
  every due time go as every other key does. A key that a create used first is left as it is.

  A withdrawal that meets one made before marks the record met (another fingerprint, the same
  life): the one made before may then be relied on by two appends, and is never taken back
  (release-withdrawn-idempotency-key-1.lua takes back only a record no other withdrawal met).

  KEYS[1] the key's idempotency record
  KEYS[2] the hash of the mission that the key names (same partition)

  ARGV[1] the mission id that the key names
  ARGV[2] the fingerprint of a withdrawn key (WITHDRAWN_FINGERPRINT in mission-store.ts)
  ARGV[3] how long the record lives, ms (IDEMPOTENCY_TTL_SECONDS)
  ARGV[4] the fingerprint of a withdrawn key that another withdrawal met (WITHDRAWN_AGAIN_FINGERPRINT)

  Result: a code from CODE (WithdrawCode in mission-store.ts)
    Withdrawn        withdrawn now, by this call: no create can use the key while the record lives
    Created          a create used the key first: its record, or its mission, exists
    WithdrawnBefore  withdrawn before, by another call: marked met, its life left as it is
]]
local withdrawn = ARGV[1] .. ' ' .. ARGV[2]
local withdrawnAgain = ARGV[1] .. ' ' .. ARGV[4]
local record = redis.call('GET', KEYS[1])
if record == withdrawn then redis.call('SET', KEYS[1], withdrawnAgain, 'KEEPTTL') end
if record == withdrawn or record == withdrawnAgain then return CODE.WithdrawnBefore end
if record or redis.call('EXISTS', KEYS[2]) == 1 then return CODE.Created end
redis.call('SET', KEYS[1], withdrawn, 'PX', ARGV[3])
return CODE.Withdrawn
