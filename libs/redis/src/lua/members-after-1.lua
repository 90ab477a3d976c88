--[[
  Up to a page of a sorted set's members after a walk's place, in the walk's order, down or up to
  its end bound (membersAfter in members-after.ts). Ordering and bounds are all Redis's own (ties by
  member, compared byte by byte), and a place inside a large tie group costs a few O(log n) steps,
  not a read of the whole group: reading the group whole on every page made walking a group of
  50,000 members transfer 12.5 million strings.

  KEYS[1] the sorted set

  ARGV[1] the walk's order: 'asc' (lowest score first, ties by member ascending) or 'desc' (the reverse)
  ARGV[2] the place's score, as ZCOUNT takes it (a number, '-inf' or '+inf')
  ARGV[3] '1' when the place names a member (the last one passed), '0' when it starts at the score,
          that score included
  ARGV[4] the place's member (ignored when ARGV[3] is '0')
  ARGV[5] the end bound, as ZRANGE BYSCORE takes it ('(' for exclusive): no member beyond it is returned
  ARGV[6] the most members to return

  Result: flat, as ZRANGE … WITHSCORES gives it: member, score, member, score, …; every score as
  Redis writes it.
]]
local key = KEYS[1]
local asc = ARGV[1] == 'asc'
local score, hasMember, place, limit = ARGV[2], ARGV[3] == '1', ARGV[4], tonumber(ARGV[6])
local finish = ARGV[5]

-- Members before a score bound in the walk's order (ZCOUNT from the walk's start).
local function countBefore(bound)
  if asc then return redis.call('ZCOUNT', key, '-inf', bound) end
  return redis.call('ZCOUNT', key, bound, '+inf')
end

local function range(first, last)
  if asc then return redis.call('ZRANGE', key, first, last, 'WITHSCORES') end
  return redis.call('ZRANGE', key, first, last, 'REV', 'WITHSCORES')
end

-- Lua's `<` on strings is strcoll under Redis's locale; Redis orders tied members by their bytes.
local function bytesBefore(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- The tie group of the place's score, as indexes in the walk's order: [groupStart, groupEnd).
local groupStart = countBefore('(' .. score)
local start = groupStart
if hasMember then
  local groupEnd = countBefore(score)
  local rank
  if asc then rank = redis.call('ZRANK', key, place) else rank = redis.call('ZREVRANK', key, place) end
  if rank and rank >= groupStart and rank < groupEnd then
    start = rank + 1
  else
    -- The place's member left the set (or its score): the first tied member that sorts after it.
    local low, high = groupStart, groupEnd
    while low < high do
      local middle = math.floor((low + high) / 2)
      local candidate = range(middle, middle)[1]
      local after
      if asc then after = bytesBefore(place, candidate) else after = bytesBefore(candidate, place) end
      if after then high = middle else low = middle + 1 end
    end
    start = low
  end
end

local stop = math.min(start + limit, countBefore(finish)) - 1
if stop < start then return {} end
return range(start, stop)
