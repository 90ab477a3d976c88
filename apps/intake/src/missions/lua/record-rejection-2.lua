--[[
  Records a refused mission.submit once, however often its message is delivered: the entry in the
  rejected-submissions stream is written together with a marker named after the message's id, and
  not at all while that marker lives. A delivery that comes again after a crash between this step
  and the message's acknowledgement then writes nothing.

  KEYS[1] rejected-submissions stream of the message's partition
  KEYS[2] the message's marker (same partition, same hash slot)

  ARGV[1] how long the marker lives, ms
  ARGV[2] the stream's MAXLEN (0 = uncapped)
  ARGV[3..] the entry's fields and values, in pairs

  Result: a code from CODE (RejectionRecordCode in submission.consumer.ts)
    Written          the entry is written
    RecordedAlready  an entry for this message was written before: nothing is
]]

if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return CODE.RecordedAlready end
local entry = {}
if tonumber(ARGV[2]) > 0 then
  entry = { 'MAXLEN', ARGV[2] }
end
entry[#entry + 1] = '*'
for i = 3, #ARGV do
  entry[#entry + 1] = ARGV[i]
end
redis.call('XADD', KEYS[1], unpack(entry))
return CODE.Written
