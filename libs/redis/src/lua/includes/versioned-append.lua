--[[
  An aggregate's event stream appended at an expected version (schedules, agents, webhook
  subscriptions): the version read from a versions hash, compared with the one the caller read,
  the events added to the stream (field 'e' = event JSON) and the new version set, so of two
  writers that read version n only the first append at n lands.

  appendAtVersion(versions, id, expected, stream, first, last) appends ARGV[first..last] as the
  events of `id` and returns true and the new version, or false and the current version (nothing
  written) when that is not `expected`.
]]

local function appendAtVersion(versions, id, expected, stream, first, last)
  local current = tonumber(redis.call('HGET', versions, id) or '0')
  if current ~= tonumber(expected) then return false, current end
  for e = first, last do
    redis.call('XADD', stream, '*', 'e', ARGV[e])
  end
  local version = current + last - first + 1
  redis.call('HSET', versions, id, version)
  return true, version
end
