--[[
  Appends profile events of one agent (registered, updated, status changed) at an expected
  version and updates the agent's read model, all or nothing: a PATCH that changes fields and
  status is two events under one version check, so a conflict leaves neither behind.

  KEYS[1] agent records hash (agent id -> record JSON)
  KEYS[2] agent versions hash
  KEYS[3] the agent's event stream
  KEYS[4] capacity hash (read by the assignment script)
  KEYS[5] credits hash
  KEYS[6] load hash

  ARGV[1] agent id
  ARGV[2] expected version (0 to register)
  ARGV[3] record JSON after the events
  ARGV[4] capacity after the events
  ARGV[5] credits to start with ('' = leave credits as they are)
  ARGV[6..] event JSON, one per event, in order

  Result: { code, detail }, code from CODE (AgentAppendCode in agent-registry.ts)
    Ok               detail = new version
    VersionConflict  detail = current version
]]
--- @include "@redis/includes/versioned-append"

local appended, version = appendAtVersion(KEYS[2], ARGV[1], ARGV[2], KEYS[3], 6, #ARGV)
if not appended then return { CODE.VersionConflict, tostring(version) } end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[5], ARGV[1], ARGV[5]) end
redis.call('HSETNX', KEYS[6], ARGV[1], 0)
return { CODE.Ok, tostring(version) }
