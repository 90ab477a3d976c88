--[[
  Applies a batch of mission events to the daily report (per UTC day and mission type) and moves
  the projection's checkpoint for the log stream they came from, in one step: after a crash the
  projection resumes right after the last batch it applied, with nothing skipped or applied twice.

  KEYS[1] checkpoint hash: field <log stream key> = id of the last log entry applied from it,
          field <log stream key>|entries = log entries consumed from it
  KEYS[2] per-mission hash: field <missionId> = '<last applied version>|<mission type>'
  KEYS[3] report hash: field '<day>|<mission type>|<metric>' = running total
  All three share the {p} hash tag of the projections (one Redis Cluster slot).

  ARGV[1] log stream key
  ARGV[2] checkpoint the batch was read after ('' = from the start of the stream)
  ARGV[3] id of the batch's last log entry: the new checkpoint
  ARGV[4] log entries in the batch (events that change no metric are not sent, but count here)
  ARGV[5..] events, each: missionId, version, day (YYYY-MM-DD, UTC), mission type ('' except on
          MissionCreated), n, then n pairs of metric name and amount to add

  Result: code from CODE (ProjectionApplyCode in projection-script.ts, @app/projections)
    { Applied, applied, ignored }  ignored = events whose version was not newer than the last
                                   one applied to their mission (already applied), left out
    { Stale, checkpoint }          the checkpoint is not ARGV[2] (another runner or a rebuild
                                   moved it); nothing written
]]
--- @include "includes/projection-checkpoint"

local stale = staleCheckpoint(KEYS[1])
if stale then return { CODE.Stale, stale } end

local applied, ignored = 0, 0
local i = 5
while i <= #ARGV do
  local missionId = ARGV[i]
  local version = tonumber(ARGV[i + 1])
  local day = ARGV[i + 2]
  local missionType = ARGV[i + 3]
  local n = tonumber(ARGV[i + 4])
  local lastVersion = 0
  local known = redis.call('HGET', KEYS[2], missionId)
  if known then
    local bar = string.find(known, '|', 1, true)
    lastVersion = tonumber(string.sub(known, 1, bar - 1))
    if missionType == '' then missionType = string.sub(known, bar + 1) end
  end
  if version <= lastVersion then
    ignored = ignored + 1
  else
    -- A history whose MissionCreated was never seen still counts, under its own heading.
    if missionType == '' then missionType = 'unknown' end
    redis.call('HSET', KEYS[2], missionId, ARGV[i + 1] .. '|' .. missionType)
    for p = i + 5, i + 3 + 2 * n, 2 do
      redis.call('HINCRBYFLOAT', KEYS[3], day .. '|' .. missionType .. '|' .. ARGV[p], ARGV[p + 1])
    end
    applied = applied + 1
  end
  i = i + 5 + 2 * n
end
moveCheckpoint(KEYS[1])
return { CODE.Applied, applied, ignored }
