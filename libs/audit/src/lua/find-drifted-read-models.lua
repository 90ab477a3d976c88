--[[
  Finds the missions whose live read model differs from what a rebuild replayed from the log, so
  that only those are written and switched (in the normal case, none). Reads only.

  KEYS[1]    the mission index zset (member id, score = created at, ms)
  KEYS[2i], KEYS[2i + 1]
             mission i's live hash (fields MISSION_FIELDS: version, status, state JSON) and its
             event list (log ids, in version order), for i = 1..n
             All share the {m} hash tag (one Redis Cluster slot). n is the batch size, so the
             name has no -<numKeys> suffix.
  ARGV       for mission i, six values from ARGV[6i - 5]: its id, the replayed version, the
             replayed status, the SHA-1 of the replayed state JSON, the log id of its last
             replayed event, and the number of its events in the log

  Result: per drifted mission, two values: its position i (1-based, ascending) and what differs,
          the sum of DRIFT.State (v, st or s differ from the replay, or there is no s),
          DRIFT.Unindexed (not in the mission index) and DRIFT.EventList (its event list does not
          end with its last replayed event, or has another length than its events in the log).
          The last two only where the live v is the replayed one (or there is no live hash): a
          mission that moved on since the replay has a longer list, and the switch leaves it alone.
]]
local n = (#KEYS - 1) / 2
local drifted = {}
for i = 1, n do
  local hash, list = KEYS[2 * i], KEYS[2 * i + 1]
  local at = 6 * i - 5
  local what = 0
  local live = redis.call('HMGET', hash, MISSION_FIELDS.version, MISSION_FIELDS.status, MISSION_FIELDS.state)
  if live[1] ~= ARGV[at + 1] or live[2] ~= ARGV[at + 2] or not live[3] or redis.sha1hex(live[3]) ~= ARGV[at + 3] then
    what = what + DRIFT.State
  end
  if not live[1] or live[1] == ARGV[at + 1] then
    if not redis.call('ZSCORE', KEYS[1], ARGV[at]) then what = what + DRIFT.Unindexed end
    if redis.call('LLEN', list) ~= tonumber(ARGV[at + 5]) or redis.call('LINDEX', list, -1) ~= ARGV[at + 4] then
      what = what + DRIFT.EventList
    end
  end
  if what ~= 0 then
    drifted[#drifted + 1] = i
    drifted[#drifted + 1] = what
  end
end
return drifted
