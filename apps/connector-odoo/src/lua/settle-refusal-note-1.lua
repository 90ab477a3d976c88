--[[
  Settles a refusal's note after an attempt to post it: dropped once posted, or stored with its
  failure to be tried again; unless a newer refusal of the same record replaced it meanwhile (a
  round that outlived its poll lock), whose note is then still to post and is kept.

  KEYS[1] refusal notes to post (hash: '<model>:<record id>' -> note JSON)

  ARGV[1] the record ('<model>:<record id>')
  ARGV[2] the note JSON as read before the attempt
  ARGV[3] the note JSON to store in its place ('' once posted: the note is dropped)

  Result: code from CODE (SettleNoteCode in odoo-refusals.ts)
    Settled   the note was the one attempted; dropped or replaced by ARGV[3]
    Replaced  another note stands there now; kept
]]
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return CODE.Replaced end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return CODE.Settled
