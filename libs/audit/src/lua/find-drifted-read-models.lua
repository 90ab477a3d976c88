--[[
  Finds the missions whose live read model differs from what a rebuild replayed from the log, so
  that only those are written and switched (in the normal case, none). Reads only.

  KEYS[1]    the mission index zset (member id, score = created at, ms)
  KEYS[2]    the ready zset          KEYS[3]    the leased zset
  KEYS[4]    the dead-letter zset (score = dead-lettered at, ms)
  KEYS[5]    the watched deadlines zset (score = deadline, ms)
  KEYS[6]    the overdue zset (score = found overdue at, ms)
  then, for each mission i = 1..n in turn:
             its live hash (fields MISSION_FIELDS: version, status, state JSON, dead-letter
             reason), its event list
             (log ids, in version order), and the sets of the data subjects its create names
             (ids of the subject's missions; as many as ARGV says)
             All share the {m} hash tag (one Redis Cluster slot). n is the batch size, so the
             name has no -<numKeys> suffix.
  ARGV       for each mission i in turn, ten values: its id, the replayed version, the replayed
             status, the SHA-1 of the replayed state JSON, the SHA-1 of the log ids of its events
             in log order joined by commas (what its event list must hold), the number of its
             subject sets in KEYS, where its events leave it among the dead letters: its score
             ('' when they leave it out) and its reason, and where they leave it on the deadline
             watch: 'watched' (KEYS[5], at the score that follows: its deadline), 'overdue'
             (KEYS[6]) or '' (neither: finished, or no deadline), and that score; a mission in
             KEYS[6] that is not 'overdue' there is StaleOverdue

  Result: per drifted mission, two values: its position i (1-based, ascending) and what differs,
          the sum of DRIFT.State (v, st or s differ from the replay, or there is no s),
          DRIFT.Unindexed (not in the mission index), DRIFT.EventList (its event list is not the
          log ids of its events, anywhere in it: compared by SHA-1 of the ids joined by commas)
          DRIFT.SubjectUnindexed (a subject's set does not name it) and DRIFT.Unqueued (replayed
          and live `queued` at the replayed version, not leased, and its hash lacks the skill set
          its enqueue records (MISSION_FIELDS.skillSet, written with the other queue fields) or
          it is not in the ready zset: a hash written without its effects, by a rebuild
          interrupted before it restored them, which no lease hands out, or every lease does)
          and DRIFT.DeadLetter (its dead-letter entry or the reason its hash keeps differ from
          where its events leave it: missing, another score, another reason, or there when its
          events leave it out; a dead letter without a reason is one written before reasons
          were kept, and no drift; only where the live v is the replayed one: a mission without
          a hash is restored whole, its dead letter with it) and DRIFT.Deadline (watched, by its
          events, but not in the watched deadlines at its deadline, or overdue but not in the
          overdue zset: lost by hand, or to a sweep that read its hash drifted; only where the
          live v is the replayed one, as for the dead letter) and DRIFT.StaleOverdue (in the
          overdue zset, which its events leave it out of: finished, never found overdue, or
          without a deadline; nothing but a finish takes a mission out of it, and the queue
          stats count it there; only where the live v is the replayed one, or beside a switch,
          which writes it back at that version). A watched entry of a
          finished mission, or of one found overdue, is stale but no drift: the deadline sweep,
          once it is due, finds nothing to do for it and drops it.
          Unindexed and EventList only where the live v is the replayed one (or there is no live
          hash): a mission that moved on since the replay has a longer list, and the switch leaves
          it alone. A subject's set only ever gains missions, so it is checked whatever v is. A
          leased mission is left out of Unqueued: putting it back in the ready queue would hand
          it out a second time while its lease is held, unless its hash lacks the skill set: its
          lease's end would then leave it out of the ready queue, and the restore writes its queue
          fields back and applies its other effects, all but those on the ready queue and the
          leases (RestoreCode.QueueFields). Unqueued is looked for only beside no State,
          Unindexed or EventList (the switch restores the effects of those); a dead letter or a
          deadline entry that differs is mended beside it and hides none.
]]
local drifted = {}
local k, a, i = 7, 1, 0
while a <= #ARGV do
  i = i + 1
  local hash, list = KEYS[k], KEYS[k + 1]
  local subjects = tonumber(ARGV[a + 5])
  local what = 0
  local live = redis.call('HMGET', hash, MISSION_FIELDS.version, MISSION_FIELDS.status, MISSION_FIELDS.state, MISSION_FIELDS.deadLetterReason)
  if live[1] ~= ARGV[a + 1] or live[2] ~= ARGV[a + 2] or not live[3] or redis.sha1hex(live[3]) ~= ARGV[a + 3] then
    what = what + DRIFT.State
  end
  if not live[1] or live[1] == ARGV[a + 1] then
    if not redis.call('ZSCORE', KEYS[1], ARGV[a]) then what = what + DRIFT.Unindexed end
    if redis.sha1hex(table.concat(redis.call('LRANGE', list, 0, -1), ',')) ~= ARGV[a + 4] then
      what = what + DRIFT.EventList
    end
  end
  -- The switch restores the effects of these: Unqueued is looked for only without them.
  local switched = what
  -- A mission without a hash is restored whole, its dead letter with it (restoreMissionEffects).
  if live[1] == ARGV[a + 1] then
    local dead = redis.call('ZSCORE', KEYS[4], ARGV[a])
    if ARGV[a + 6] == '' then
      if dead or live[4] then what = what + DRIFT.DeadLetter end
    -- Dated only with its reason: one written before `dr` was may be dated a few ms before its event.
    elseif not dead or (live[4] and (tonumber(dead) ~= tonumber(ARGV[a + 6]) or live[4] ~= ARGV[a + 7])) then
      what = what + DRIFT.DeadLetter
    end
  end
  if switched == 0 and live[2] == 'queued' then
    local unrecorded = redis.call('HEXISTS', hash, MISSION_FIELDS.skillSet) == 0
    if redis.call('ZSCORE', KEYS[3], ARGV[a]) then
      -- Leased without its queue fields: its lease's end would leave it out of the ready queue.
      if unrecorded then what = what + DRIFT.Unqueued end
    elseif unrecorded or redis.call('ZSCORE', KEYS[2], ARGV[a]) == false then
      what = what + DRIFT.Unqueued
    end
  end
  if live[1] == ARGV[a + 1] and ARGV[a + 8] ~= '' then
    if ARGV[a + 8] == 'watched' then
      local watched = redis.call('ZSCORE', KEYS[5], ARGV[a])
      if not watched or tonumber(watched) ~= tonumber(ARGV[a + 9]) then what = what + DRIFT.Deadline end
    elseif not redis.call('ZSCORE', KEYS[6], ARGV[a]) then
      what = what + DRIFT.Deadline
    end
  end
  -- Nothing but a finish takes a mission out of the overdue; the queue stats count each there.
  -- Also beside a switch, which writes the mission back at the replayed version (a hash deleted
  -- or its v edited): its restore puts no finished mission out of the overdue.
  if (live[1] == ARGV[a + 1] or switched ~= 0) and ARGV[a + 8] ~= 'overdue' and redis.call('ZSCORE', KEYS[6], ARGV[a]) then
    what = what + DRIFT.StaleOverdue
  end
  for s = 1, subjects do
    if redis.call('SISMEMBER', KEYS[k + 1 + s], ARGV[a]) == 0 then
      what = what + DRIFT.SubjectUnindexed
      break
    end
  end
  if what ~= 0 then
    drifted[#drifted + 1] = i
    drifted[#drifted + 1] = what
  end
  k = k + 2 + subjects
  a = a + 10
end
return drifted
