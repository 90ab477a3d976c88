--[[
  Sends a delivered or dead delivery again (an operator's redeliver): it becomes pending and due
  now, with the same webhook-id, outside its mission's queue (the operator asked for it now);
  it is retried as a new delivery would be: the retry period starts again from its next try (its
  first try's and first request's times are deleted, for the next claim and request to set), and
  so does the backoff, from the attempts it had made (kept as attemptsAtRedelivery; the claim
  counts its backoff from there; tries that sent nothing before it count no more). Its attempts
  keep counting the requests made.

  KEYS[1] the delivery hash
  KEYS[2] due ZSET
  KEYS[3] the subscription's dead ZSET
  KEYS[4] pending SET (the backlog)
  All share the {p} hash tag.

  ARGV[1] delivery id
  ARGV[2] now (ms)
  ARGV[3] who asked for it (the API key's name), kept with the time as redeliveredBy/redeliveredAt

  Result: code from CODE (RedeliverCode in webhook-outbox.ts)
    { Queued, fields }  due now; fields = the delivery hash as it is then (HGETALL)
    { NotFound }  no such delivery (or it expired)
    { Pending }   it is still pending: it is being attempted already
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return { CODE.NotFound } end
if status == 'pending' then return { CODE.Pending } end
redis.call('PERSIST', KEYS[1])
local attempts = redis.call('HGET', KEYS[1], 'attempts') or '0'
redis.call('HSET', KEYS[1], 'status', 'pending', 'nextAt', ARGV[2], 'redeliveredBy', ARGV[3], 'redeliveredAt', ARGV[2],
  'attemptsAtRedelivery', attempts)
redis.call('HDEL', KEYS[1], 'firstAttemptAt', 'firstAttemptClaim', 'firstRequestAt', 'firstRequestClaim', 'requestClaim', 'deliveredAt', 'deadAt', 'unsentTries')
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
return { CODE.Queued, redis.call('HGETALL', KEYS[1]) }
