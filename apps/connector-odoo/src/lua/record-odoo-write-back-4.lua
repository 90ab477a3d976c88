--[[
  Records how a write-back ended: posted (an OdooResultPosted event in the connector's stream and
  the message id) or given up (an OdooWriteBackAbandoned event and why), and the write-back off the
  due ZSET and the failures, all or nothing; a second record of the same mission changes nothing
  but the queue. A post whose rule moves the stage after it stays queued instead, its stage change
  recorded as still to make (ARGV[4], ARGV[5]) in the same step: a stop or a crash between the post
  and the stage change left it off the queue, and the stage was never moved.

  KEYS[1] outcome hash: posted (mission id -> chatter message id) or abandoned (mission id -> JSON)
  KEYS[2] due ZSET
  KEYS[3] the connector's event stream
  KEYS[4] failures hash
  All share the {p} hash tag.

  ARGV[1] mission id
  ARGV[2] the outcome hash's value: the chatter message id, or the abandoned record's JSON
  ARGV[3] event JSON
  ARGV[4] the failures entry of a stage change still to make ('' or absent: none)
  ARGV[5] when that stage change is due again (ms): when the write-back's claim lapses

  Result: code from CODE (RecordCode in odoo-write-back.ts)
    { Recorded }  the event is appended
    { Already }   the mission's outcome was recorded before; the event is not appended again
]]
local stagePending = ARGV[4] ~= nil and ARGV[4] ~= ''
if stagePending then
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return { CODE.Already } end
redis.call('XADD', KEYS[3], '*', 'e', ARGV[3])
return { CODE.Recorded }
