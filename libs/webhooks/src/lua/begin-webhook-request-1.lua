--[[
  Records that a request of a claimed delivery is about to be made under its claim, before it is,
  for every request: requestClaim is that claim's token. A claim that lapses unsettled is judged by
  it when the delivery is claimed again (claim-webhook-deliveries-3.lua): one that recorded its
  request keeps the attempt it counted, as the request may have reached the receiver; one that did
  not sent nothing, and is no attempt. A lapsed claim is refused here, so one judged to have sent
  nothing never sends after all.

  The first request since the delivery was written or redelivered is recorded too, as
  firstRequestAt (the claim's time, with its token as firstRequestClaim): its retry period counts
  from that request. Recorded before the request, so a request made whose settling is lost (a
  crash, Redis failing) is still known to have been made, and the request made again after the
  claim lapses is judged from the first one's time. Once set it never moves, so no lapse or retry
  lengthens the period; only a redelivery deletes it (redeliver-webhook-delivery-4.lua), and a
  settlement of its own claim stopped before the request (settle-webhook-delivery-8.lua ARGV[15]).

  KEYS[1] the delivery hash ({p} hash tag)

  ARGV[1] claim token (of the claim the request is made under)
  ARGV[2] when the retry period of its requests counts from (ms: that claim's now), kept as
          firstRequestAt when none is set

  Result: code from CODE (RequestCode in webhook-outbox.ts)
    Recorded  the claim holds: requestClaim is set, firstRequestAt too if it was not, and the
              request may go
    Lapsed    the claim lapsed and another dispatcher holds the delivery (or its hash is gone):
              nothing written, and no request is to be made under this claim
]]
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then return CODE.Lapsed end
redis.call('HSET', KEYS[1], 'requestClaim', ARGV[1])
if redis.call('HSETNX', KEYS[1], 'firstRequestAt', ARGV[2]) == 1 then redis.call('HSET', KEYS[1], 'firstRequestClaim', ARGV[1]) end
return CODE.Recorded
