--[[
  Records a refused mission.submit once, however often its message is delivered: a message
  delivered again (the intake died between this step and the message's acknowledgement) whose
  entry the rejected-submissions stream already holds writes nothing. Only such a delivery looks,
  and only at the entries written from a minute before the message's id on (a clock stepped back
  since gives its entry a lower id), at most SCAN_LIMIT of them, so a redelivery costs a bounded
  read of Redis whatever the stream holds: an entry beyond them, or trimmed away by MAXLEN, is
  not found and written again.

  KEYS[1] rejected-submissions stream of the message's partition

  ARGV[1] the message's id (its entry in the intake stream)
  ARGV[2] the message's delivery count (1 on the first)
  ARGV[3] the stream's MAXLEN (0 = uncapped)
  ARGV[4..] the entry's fields and values, in pairs, `messageId` among them

  Result: a code from CODE (RejectionRecordCode in submission.consumer.ts)
    Written          the entry is written
    RecordedAlready  an entry for this message was written before: nothing is
]]

local SCAN_LIMIT = 1000
local CLOCK_MARGIN_MS = 60000

if tonumber(ARGV[2]) > 1 then
  local sentMs = tonumber(string.match(ARGV[1], '^(%d+)')) or 0
  local entries = redis.call('XRANGE', KEYS[1], tostring(math.max(0, sentMs - CLOCK_MARGIN_MS)), '+', 'COUNT', SCAN_LIMIT)
  for _, entry in ipairs(entries) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'messageId' and fields[i + 1] == ARGV[1] then return CODE.RecordedAlready end
    end
  end
end

local entry = {}
if tonumber(ARGV[3]) > 0 then
  entry = { 'MAXLEN', ARGV[3] }
end
entry[#entry + 1] = '*'
for i = 4, #ARGV do
  entry[#entry + 1] = ARGV[i]
end
redis.call('XADD', KEYS[1], unpack(entry))
return CODE.Written
