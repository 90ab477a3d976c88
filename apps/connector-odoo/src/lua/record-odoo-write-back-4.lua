--[[
  Records a posted result: an OdooResultPosted event in the connector's stream, the message id,
  and the write-back off the due ZSET and the failures, all or nothing; a second record of the
  same mission changes nothing.

  KEYS[1] posted hash (mission id -> chatter message id)
  KEYS[2] due ZSET
  KEYS[3] the connector's event stream
  KEYS[4] failures hash
  All share the {p} hash tag.

  ARGV[1] mission id
  ARGV[2] chatter message id
  ARGV[3] event JSON

  Result: code from CODE (RecordCode in odoo-write-back.ts)
    { Recorded }  the event is appended
    { Already }   the mission's post was recorded before; nothing written
]]
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return { CODE.Already } end
redis.call('XADD', KEYS[3], '*', 'e', ARGV[3])
return { CODE.Recorded }
