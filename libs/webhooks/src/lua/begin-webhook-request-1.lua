--[[
  Records that a claimed delivery's first request (since it was written or redelivered) is about to
  be made, before it is: its retry period counts from that request, and the attempts cannot tell
  which one it is (a claim that lapses unsettled, with a request made or not, keeps the attempt it
  counted). Recorded before the request, so a request made whose settling is lost (a crash, Redis
  failing) is still known to have been made, and the request made again after the claim lapses is
  judged from the first one's time. Once set it never moves, so no lapse or retry lengthens the
  period; only a redelivery deletes it (redeliver-webhook-delivery-4.lua), and a settlement of the
  claim that set it stopped before the request (settle-webhook-delivery-8.lua ARGV[15]), which
  knows it by that claim's token, kept as firstRequestClaim. The dispatcher runs it
  only when the claim returned no first request (claim-webhook-deliveries-3.lua).

  KEYS[1] the delivery hash ({p} hash tag)

  ARGV[1] claim token (of the claim the request is made under)
  ARGV[2] when the retry period of its requests counts from (ms: that claim's now), kept as
          firstRequestAt

  Result: code from CODE (RequestCode in webhook-outbox.ts)
    Recorded  the claim holds: firstRequestAt is set (kept if it was already), and the request may go
    Lapsed    the claim lapsed and another dispatcher holds the delivery (or its hash is gone):
              nothing written, and no request is to be made under this claim
]]
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then return CODE.Lapsed end
if redis.call('HSETNX', KEYS[1], 'firstRequestAt', ARGV[2]) == 1 then redis.call('HSET', KEYS[1], 'firstRequestClaim', ARGV[1]) end
return CODE.Recorded
