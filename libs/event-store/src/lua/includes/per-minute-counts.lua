--[[
  The ready queue's per-minute counts (the hash of KeyLayout.perMinute: e:<minute> missions
  enqueued, d:<minute> dequeued, in minutes since the epoch), in one place: the append's enqueue
  effect and the lease script count with countPerMinute.

  The hash keeps a minute's fields for PER_MINUTE.keptMinutes minutes after it, what queue stats
  and the throughput chart read. The first count of a minute drops the fields older than that, so
  the hash stays bounded by the writes themselves, whether or not anything reads the stats (they
  used to be dropped only by a stats read, and a deployment nothing scraped kept every minute).
  Needs the constant PER_MINUTE (keptMinutes: PER_MINUTE_KEPT_MINUTES in key-layout.ts) and
  @redis/includes/redis-clock (redisNowMs), included before it.
]]

-- The most fields one count looks at: a hash left with a year of minutes by a build that trimmed
-- only on a stats read is trimmed a random sample at a time, so that no call blocks Redis for
-- long, and stats read only the fields of the minutes they show.
local PER_MINUTE_SAMPLE = 1000

-- Adds n to field (e:<minute> or d:<minute>) of the per-minute hash.
local function countPerMinute(hash, field, n)
  if redis.call('HINCRBY', hash, field, n) ~= tonumber(n) then return end
  -- The hour kept is Redis's: a writer whose host clock runs ahead (its field's minute) must not
  -- drop what the others counted in the last hour.
  local oldest = math.floor(redisNowMs() / 60000) - PER_MINUTE.keptMinutes
  local fields
  if redis.call('HLEN', hash) > PER_MINUTE_SAMPLE then
    fields = redis.call('HRANDFIELD', hash, PER_MINUTE_SAMPLE)
  else
    fields = redis.call('HKEYS', hash)
  end
  local old = {}
  for _, name in ipairs(fields) do
    local minute = tonumber(string.sub(name, 3))
    if minute and minute < oldest then old[#old + 1] = name end
  end
  if #old > 0 then redis.call('HDEL', hash, unpack(old)) end
end
