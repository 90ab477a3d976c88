--[[
  Appends one event of a webhook subscription at an expected version and updates its record and
  secrets, all or nothing.

  KEYS[1] subscription records hash (id -> record JSON)
  KEYS[2] subscription versions hash (id -> version)
  KEYS[3] the subscriptions' event stream
  KEYS[4] secrets hash (id -> JSON list of the secrets in force)
  KEYS[5] failing-since hash (id -> since when, ms, its endpoint has failed without a success)
  All share the {p} hash tag (one Redis Cluster slot).

  ARGV[1] subscription id
  ARGV[2] expected version (0 to subscribe)
  ARGV[3] record JSON after the event ('' = the subscription is deleted)
  ARGV[4] secrets JSON after the event ('' = unchanged)
  ARGV[5] event JSON
  ARGV[6] '1' when the event restarts the endpoint's failure clock (enabled again, deleted): its
          failing-since goes with the event, so a crash cannot leave a clock that disables the
          endpoint again at its next failure
  ARGV[7] '', or the failing-since (ms) the event is appended on condition of: the dispatcher's
          disable of a failing endpoint, decided from the clock its failed request's settling
          returned. Unless KEYS[5] still holds that for the subscription, nothing is written: a
          success settled since (which clears it) or an enable (which restarts it) keeps the
          endpoint enabled. An operator's disable has none and is appended whatever the clock

  Result: { code, detail }, code from CODE (WebhookAppendCode in webhook-subscriptions.ts)
    Ok               detail = new version
    VersionConflict  detail = current version
    NoLongerFailing  detail = the failing-since KEYS[5] holds ('' = none): not ARGV[7], nothing written
]]
--- @include "@redis/includes/versioned-append"

if ARGV[7] ~= '' then
  local since = redis.call('HGET', KEYS[5], ARGV[1]) or ''
  if tonumber(since) ~= tonumber(ARGV[7]) then return { CODE.NoLongerFailing, since } end
end
local appended, version = appendAtVersion(KEYS[2], ARGV[1], ARGV[2], KEYS[3], 5, 5)
if not appended then return { CODE.VersionConflict, tostring(version) } end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  if ARGV[4] ~= '' then redis.call('HSET', KEYS[4], ARGV[1], ARGV[4]) end
end
if ARGV[6] == '1' then redis.call('HDEL', KEYS[5], ARGV[1]) end
return { CODE.Ok, tostring(version) }
