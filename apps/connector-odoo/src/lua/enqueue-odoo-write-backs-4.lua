--[[
  The connector's write-back outbox: remembers which missions came from Odoo, and queues a
  write-back when one of them succeeds, moving the connector's checkpoint for the log stream in the
  same step, so each success is queued exactly once however often a batch is read.

  KEYS[1] checkpoint hash: field <log stream key> = id of the last log entry applied from it,
          field <log stream key>|entries = log entries consumed from it
  KEYS[2] sources hash (mission id -> '<model>|<record id>')
  KEYS[3] due ZSET (mission id -> when its write-back is due, ms)
  KEYS[4] submitted hash ('<model>:<record id>' -> mission id the connector submitted for it)
  All share the {p} hash tag.

  ARGV[1] log stream key
  ARGV[2] checkpoint the batch was read after ('' = from the start of the stream)
  ARGV[3] id of the batch's last log entry: the new checkpoint
  ARGV[4] log entries in the batch
  ARGV[5] now (ms)
  ARGV[6..] items in log order, each: kind, mission id, source ('<model>|<record id>', '' for
            succeeded), submitted field ('<model>:<record id>', '' for succeeded); kind is
            'source' (the connector's own mission by its mark under the current key),
            'source-if-taken-in' (an Odoo source without that mark: the connector's only if it
            recorded this mission id for the record when it submitted it, under an earlier key or
            before the mark) or 'succeeded'

  Result: code from CODE (ProjectionApplyCode in projection-script.ts, @app/projections)
    { Applied, queued }     queued = write-backs queued
    { Stale, checkpoint }   the checkpoint is not ARGV[2]; nothing written
]]
--- @include "@projections/includes/projection-checkpoint"

local stale = staleCheckpoint(KEYS[1])
if stale then return { CODE.Stale, stale } end

local queued = 0
for i = 6, #ARGV, 4 do
  if ARGV[i] == 'source' then
    redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i + 2])
  elseif ARGV[i] == 'source-if-taken-in' then
    if redis.call('HGET', KEYS[4], ARGV[i + 3]) == ARGV[i + 1] then redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i + 2]) end
  elseif redis.call('HEXISTS', KEYS[2], ARGV[i + 1]) == 1 then
    queued = queued + redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[i + 1])
  end
end
moveCheckpoint(KEYS[1])
return { CODE.Applied, queued }
