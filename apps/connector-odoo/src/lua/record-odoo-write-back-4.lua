--[[
  Records how a write-back ended: posted (an OdooResultPosted event in the connector's stream and
  the message id) or given up (an OdooWriteBackAbandoned event and why), and the write-back off the
  due ZSET and the failures, all or nothing; a second record of the same mission changes nothing.

  KEYS[1] outcome hash: posted (mission id -> chatter message id) or abandoned (mission id -> JSON)
  KEYS[2] due ZSET
  KEYS[3] the connector's event stream
  KEYS[4] failures hash
  All share the {p} hash tag.

  ARGV[1] mission id
  ARGV[2] the outcome hash's value: the chatter message id, or the abandoned record's JSON
  ARGV[3] event JSON

  Result: code from CODE (RecordCode in odoo-write-back.ts)
    { Recorded }  the event is appended
    { Already }   the mission's outcome was recorded before; nothing written
]]
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return { CODE.Already } end
redis.call('XADD', KEYS[3], '*', 'e', ARGV[3])
return { CODE.Recorded }
