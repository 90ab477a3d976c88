--[[
  Sets aside the Odoo records whose missions the intake refused, read from one partition's
  rejected-submission stream, queues a chatter note for each, marks those refused for skills to be
  taken in again once an agent has them, and moves the connector's cursor over that stream, all
  or nothing, while the round's instance holds the poll lock. A record is set aside only while the
  connector holds it as submitted under the refused mission's id: a refusal read twice, or one of
  a mission the connector did not send (a REST client's Odoo source), changes nothing.

  KEYS[1] cursors over the rejected streams (hash: partition -> id of the last entry read)
  KEYS[2] submitted (hash: '<model>:<record id>' -> mission id)
  KEYS[3] refused (hash: '<model>:<record id>' -> reason)
  KEYS[4] refusal notes to post (hash: record -> note JSON): a record's newer refusal replaces
          an older note still to post, so the chatter never ends on a reason no longer true
  KEYS[5] records to take in again once an agent has the skills (hash: record -> retake JSON);
          an entry already there is kept, with its attempts
  KEYS[6] the poll lock (string: the holder's token)
  All share the {p} hash tag.

  ARGV[1] this instance's token in the poll lock
  ARGV[2] partition
  ARGV[3] the cursor the batch was read after ('' when none was stored)
  ARGV[4] the cursor after the batch
  then 5 arguments per refusal: record, mission id, reason, note JSON, retake JSON
  ('' when the refusal was not for skills no agent has: only an edit takes the record in again)

  Result: { code, count }, code from CODE (SetAsideCode in odoo-refusals.ts)
    { Moved, n }        the cursor moved; n records set aside
    { CursorMoved, 0 }  another instance read this batch first; nothing written
    { NotHeld, 0 }      the poll lock is another instance's now (or none's): a record it sent may
                        not be in submitted yet; nothing written, the holder reads the batch
]]
--- @include "includes/poll-lock"
if not holdsPollLock(KEYS[6], ARGV[1]) then return { CODE.NotHeld, 0 } end
local stored = redis.call('HGET', KEYS[1], ARGV[2]) or ''
if stored ~= ARGV[3] then return { CODE.CursorMoved, 0 } end
local count = 0
for i = 5, #ARGV, 5 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 2])
    redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 3])
    if ARGV[i + 4] ~= '' then redis.call('HSETNX', KEYS[5], ARGV[i], ARGV[i + 4]) end
    count = count + 1
  end
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
return { CODE.Moved, count }
