--[[
  Renews the poll lock for the instance that holds it: the lock lives ARGV[2] ms more if it still
  holds this instance's token; otherwise nothing changes (it expired, and another instance may
  hold it now).

  KEYS[1] the poll lock (string: the holder's token)

  ARGV[1] this instance's token
  ARGV[2] ms the lock lives from now

  Result: code from CODE (LockCode in odoo-poller.ts)
    Renewed  the lock lives ARGV[2] ms more
    NotHeld  another instance holds it, or none does; nothing changed
]]
--- @include "includes/poll-lock"
if not holdsPollLock(KEYS[1], ARGV[1]) then return CODE.NotHeld end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return CODE.Renewed
