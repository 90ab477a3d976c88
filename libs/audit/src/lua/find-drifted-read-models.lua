--[[
  Finds the missions whose live read model differs from the state a rebuild replayed from the
  log, so that only those are written and switched (in the normal case, none). Reads only.

  KEYS[1..n] live mission hashes (fields MISSION_FIELDS: version, status, state JSON)
             All share the {m} hash tag (one Redis Cluster slot). n is the batch size, so the
             name has no -<numKeys> suffix.
  ARGV       for mission i (KEYS[i]), three values from ARGV[3i - 2]: the replayed version, the
             replayed status, and the SHA-1 of the replayed state JSON

  Result: the positions i (1-based, ascending) of the missions whose v, st or s differ from the
          replay, or that have no s at all
]]
local drifted = {}
for i = 1, #KEYS do
  local live = redis.call('HMGET', KEYS[i], MISSION_FIELDS.version, MISSION_FIELDS.status, MISSION_FIELDS.state)
  local at = 3 * i - 2
  if live[1] ~= ARGV[at] or live[2] ~= ARGV[at + 1] or not live[3] or redis.sha1hex(live[3]) ~= ARGV[at + 2] then
    drifted[#drifted + 1] = i
  end
end
return drifted
