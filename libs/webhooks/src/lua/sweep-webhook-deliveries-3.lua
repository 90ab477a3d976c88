--[[
  One subscription's share of the dispatcher's sweep tick: the tidying the outbox does as it writes
  deliveries and a death does as it settles (includes/delivery-lists.lua), without either. After a
  peak of traffic, or once a failing endpoint recovers, nothing is written and nothing dies, and
  the lists would keep the ids of deliveries that expired.

  KEYS[1] the subscription's delivery list (ZSET, delivery id -> sequence number)
  KEYS[2] the subscription's dead ZSET (delivery id -> when it died, ms)
  KEYS[3] list sweep hash: subscription id -> sequence number its delivery list was swept up to
  All share the {p} hash tag, and so do the delivery hashes named from ARGV[4].

  ARGV[1] subscription id
  ARGV[2] now (ms)
  ARGV[3] seconds a dead delivery is kept (WEBHOOK_DEAD_RETENTION_SECONDS)
  ARGV[4] prefix of delivery hashes

  Deletes up to SWEEP.dead deliveries that died longer than ARGV[3] s ago, then checks the next
  SWEEP.entries entries of the delivery list (from where the last sweep stopped) and drops those
  whose delivery is gone: bounded work, whatever the lists hold.

  Result: none
]]
--- @include "includes/delivery-lists"

pruneDeadList(KEYS[2], ARGV[2], ARGV[3], SWEEP.dead, ARGV[4])
sweepDeliveryList(KEYS[1], KEYS[3], ARGV[1], SWEEP.entries, ARGV[4])
