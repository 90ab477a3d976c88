--[[
  Records a refused mission.submit once, however often its message is delivered: a message
  delivered again (the intake died between this step and the message's acknowledgement) whose
  entry the rejected-submissions stream already holds writes nothing. Only such a delivery looks:
  the entries written since the message arrived, at or after its id (both streams are in one hash
  slot, so on one clock). An entry trimmed away by MAXLEN meanwhile is not found, and written again.

  KEYS[1] rejected-submissions stream of the message's partition

  ARGV[1] the message's id (its entry in the intake stream)
  ARGV[2] the message's delivery count (1 on the first)
  ARGV[3] the stream's MAXLEN (0 = uncapped)
  ARGV[4..] the entry's fields and values, in pairs, `messageId` among them

  Result: a code from CODE (RejectionRecordCode in submission.consumer.ts)
    Written          the entry is written
    RecordedAlready  an entry for this message was written before: nothing is
]]

local PAGE = 500

if tonumber(ARGV[2]) > 1 then
  local from = ARGV[1]
  repeat
    local entries = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', PAGE)
    for _, entry in ipairs(entries) do
      local fields = entry[2]
      for i = 1, #fields, 2 do
        if fields[i] == 'messageId' and fields[i + 1] == ARGV[1] then return CODE.RecordedAlready end
      end
    end
    if #entries > 0 then from = '(' .. entries[#entries][1] end
  until #entries < PAGE
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
