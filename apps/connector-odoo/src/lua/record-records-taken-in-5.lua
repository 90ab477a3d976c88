--[[
  Records Odoo records sent as missions, while the round's instance holds the poll lock: each is
  submitted under its mission's id, and no longer refused (off refused and refused-for-skills), and
  a note still to post saying it was not taken in is dropped. Under the lock, so that no other
  instance reads the intake's refusal of such a mission before the record is in submitted (it
  would find nothing to set aside, and the refusal would be lost).

  KEYS[1] the poll lock (string: the holder's token)
  KEYS[2] submitted (hash: '<model>:<record id>' -> mission id)
  KEYS[3] refused (hash: '<model>:<record id>' -> reason)
  KEYS[4] records to take in again once an agent has the skills (hash: record -> retake JSON)
  KEYS[5] refusal notes to post (hash: record -> note JSON)
  All share the {p} hash tag.

  ARGV[1] this instance's token in the poll lock
  then 2 arguments per record: record ('<model>:<record id>'), mission id

  Result: code from CODE (TakenInCode in odoo-refusals.ts)
    Recorded  every record recorded
    NotHeld   the poll lock is another instance's now (or none's); nothing written: the records
              are read and sent again by the holder (the intake de-duplicates by source)
]]
--- @include "includes/poll-lock"
if not holdsPollLock(KEYS[1], ARGV[1]) then return CODE.NotHeld end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  redis.call('HDEL', KEYS[3], ARGV[i])
  redis.call('HDEL', KEYS[4], ARGV[i])
  redis.call('HDEL', KEYS[5], ARGV[i])
end
return CODE.Recorded
