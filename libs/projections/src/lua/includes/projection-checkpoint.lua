--[[
  A projection's checkpoint for one log stream, checked and moved in the script that applies a
  batch, so a batch is applied once whoever reads it: the checkpoint hash's field <log stream key>
  holds the id of the last log entry applied from that stream, field <log stream key> ..
  CHECKPOINT.entriesSuffix how many of its entries were consumed (projection-checkpoints.ts reads
  both; ProjectionScript hands over the suffix). The scripts that include this take the batch's
  place as their first four ARGV: log stream key, checkpoint the batch was read after ('' = from
  the start), id of its last entry, entries in it.

  staleCheckpoint(checkpoints) is the checkpoint when it is not ARGV[2] (another runner or a
  rebuild moved it: the batch must not be applied), else nil; moveCheckpoint(checkpoints) sets it
  to ARGV[3] and counts ARGV[4] more entries consumed.
]]

local function staleCheckpoint(checkpoints)
  local current = redis.call('HGET', checkpoints, ARGV[1]) or ''
  if current ~= ARGV[2] then return current end
  return nil
end

local function moveCheckpoint(checkpoints)
  redis.call('HSET', checkpoints, ARGV[1], ARGV[3])
  redis.call('HINCRBY', checkpoints, ARGV[1] .. CHECKPOINT.entriesSuffix, ARGV[4])
end
