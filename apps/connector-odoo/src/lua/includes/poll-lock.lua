-- Whether the poll lock (a string: its holder's token) holds `token`. A round whose lock passed to
-- another instance (a step outlived it) writes nothing more: the holder's round does that work.
local function holdsPollLock(lockKey, token)
  return redis.call('GET', lockKey) == token
end
