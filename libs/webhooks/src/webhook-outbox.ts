import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { cursorBinding } from '@app/mission';
import { LuaScript, luaEnum, membersAfter, parseScore, RedisConnection } from '@app/redis';
import { WebhookKeys } from './webhook-keys';

/** Result codes of claim/settle/redeliver scripts. */
enum SettleCode {
  Settled = 0,
  Stale = 1,
  Dropped = 2,
}
enum RedeliverCode {
  Queued = 0,
  NotFound = 1,
  Pending = 2,
}
enum RequestCode {
  Recorded = 0,
  Lapsed = 1,
}

const LUA_DIR = join(__dirname, 'lua');
const claimScript = new LuaScript(LUA_DIR, 'claim-webhook-deliveries-3');
/**
 * Due deliveries a claim reads at most (or as many as it may claim, if more): what it passes over
 * for their receiver's share is moved after the others when it read that many, so the next
 * claim reads on (claim-webhook-deliveries-3.lua).
 */
const CLAIM_READ = 100;
/** Entries of a subscription's list one page reads at most, whatever it finds among them. */
const MAX_SCANNED_PER_PAGE = 5_000;
/** Entries read per round trip of a page, at least. */
const SCAN_BATCH = 100;

/** Long-dead deliveries a death, or a sweep, deletes at most (the script's time stays bounded however many there are). */
const PRUNE_BATCH = 100;
const settleScript = new LuaScript(LUA_DIR, 'settle-webhook-delivery-8', { constants: { CODE: luaEnum(SettleCode), PRUNE: { batch: PRUNE_BATCH } } });
const redeliverScript = new LuaScript(LUA_DIR, 'redeliver-webhook-delivery-4', { constants: { CODE: luaEnum(RedeliverCode) } });
const beginRequestScript = new LuaScript(LUA_DIR, 'begin-webhook-request-1', { constants: { CODE: luaEnum(RequestCode) } });
/** Entries of a subscription's delivery list one sweep checks for a delivery that is gone. */
const SWEEP_ENTRIES = 100;
const sweepScript = new LuaScript(LUA_DIR, 'sweep-webhook-deliveries-3', { constants: { SWEEP: { entries: SWEEP_ENTRIES, dead: PRUNE_BATCH } } });

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** `msg_` and 32 hex digits: the delivery's id and its `webhook-id` header. */
export const DELIVERY_ID_PATTERN = '^msg_[0-9a-f]{32}$';

/**
 * A page's nextCursor: the last entry's score (a time in ms, written as a number is: no leading
 * zero, exact in a double), its id after a dot, and after another the list it pages
 * (deliveryCursorBinding). The forms of older intakes (a score alone, a score and an id) are
 * refused: they were taken by any subscription's list and any status.
 */
export const DELIVERY_CURSOR_PATTERN = '^(0|[1-9][0-9]{0,14})\\.msg_[0-9a-f]{32}\\.[A-Za-z0-9_-]{12}$';

interface DeliveryCursor {
  score: string;
  id: string;
}

/**
 * What a deliveries cursor is bound to: a hash of the subscription and the status filter it pages,
 * so that one sent for another subscription or another status (whose list is another, or another
 * order: dead ones by when they died) is refused instead of going on from a position it does not name.
 */
export function deliveryCursorBinding(subscriptionId: string, status: DeliveryStatus | undefined): string {
  return cursorBinding('GET /api/webhooks/{id}/deliveries', { subscription: subscriptionId, status });
}

function formatDeliveryCursor(cursor: DeliveryCursor, binding: string): string {
  return `${cursor.score}.${cursor.id}.${binding}`;
}

/** Where a cursor of DELIVERY_CURSOR_PATTERN goes on from, once its binding is this list's (else DeliveryCursorMismatchError). */
function parseDeliveryCursor(cursor: string, binding: string): DeliveryCursor {
  const [score, id, bound] = cursor.split('.');
  if (bound !== binding) throw new DeliveryCursorMismatchError();
  return { score, id };
}

/** A cursor of another subscription's deliveries, or of another `status`: a 400. */
export class DeliveryCursorMismatchError extends Error {
  constructor() {
    super('cursor is the nextCursor of another list or of another status: start again without a cursor, or send the status it was issued with');
    this.name = 'DeliveryCursorMismatchError';
  }
}

/** A delivery as the API lists it. */
export interface WebhookDelivery {
  id: string;
  subscriptionId: string;
  missionId: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  /** HTTP status of the last attempt; null before the first, or when it got no answer. */
  lastResponseCode: number | null;
  /** Why the last attempt failed without an answer (refused, timed out), or null. */
  lastError: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  /** When it is attempted next (pending ones); null for one that waits for an earlier delivery of the same mission. */
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  deadAt: string | null;
  /** The API key's name of whoever last asked for it again (POST …/redeliver), or null. */
  redeliveredBy: string | null;
  redeliveredAt: string | null;
}

/** A delivery taken by one dispatcher for one attempt. */
export interface ClaimedDelivery {
  id: string;
  subscriptionId: string;
  missionId: string;
  body: string;
  /**
   * This attempt's number (1-based), of every request made for it (a claim that lapsed unsettled
   * after recording its request among them, as it may have reached the receiver; one that lapsed
   * before is no attempt): no sign of whether this claim's request will be made (firstRequestAt
   * says whether one was).
   */
  attempts: number;
  /**
   * Its first try's claim (ms) since it was written or redelivered, a try that sent nothing
   * included: the retry period of a delivery that never sends counts from it.
   */
  firstAttemptAt: number;
  /**
   * Its first request's claim (ms) since it was written or redelivered, recorded before that request
   * was made (WebhookOutbox.beginRequest), or null when none was: the retry period of its
   * requests counts from it (requestPeriodFrom).
   */
  firstRequestAt: number | null;
  /** When this claim was made (ms, the claim's `now`). */
  claimedAt: number;
  /** Its attempts when it was last redelivered (0 = never): its backoff starts over from there. */
  attemptsAtRedelivery: number;
  /**
   * Tries retried without sending anything (a master key this process lacks, or a claim that
   * lapsed before its request) since its last request: not attempts, but its backoff counts them,
   * so the wait grows as for failed requests.
   */
  unsentTries: number;
  claim: string;
}

/** How many attempts to each receiver a claim may leave its caller with in flight. */
export interface ClaimShare {
  /** Attempts to one receiver in flight at once, at most. */
  perReceiver: number;
  /** The caller's attempts in flight, by receiver. */
  inFlight: ReadonlyMap<string, number>;
  /** The receiver of each subscription the caller knows; one not in it is a receiver of its own (its id). */
  receiverOf: ReadonlyMap<string, string>;
}

export type Settlement =
  | { outcome: 'retry'; at: number; responseCode: number; error: string; endpointFailed: boolean }
  | { outcome: 'delivered'; responseCode: number }
  | { outcome: 'dead'; responseCode: number; error: string; endpointFailed: boolean }
  /** Nothing was sent (the endpoint disabled, the target policy's refusal, a secret or body that does not open): no attempt is counted, only why. */
  | { outcome: 'dead'; error: string; notSent: true }
  /** Nothing was sent for now (a master key this process lacks): no attempt is counted, only why, and it is tried again at `at`. */
  | { outcome: 'retry'; at: number; error: string; notSent: true }
  /**
   * Nothing was sent because the dispatcher stopped first (a shutdown, no failure of any kind): the
   * claim is taken back whole, its attempt and the first try's and first request's times it
   * recorded, and nothing else is written; it is due again at `at`.
   */
  | { outcome: 'retry'; at: number; notSent: true; stopped: true }
  | { outcome: 'drop' };

/** A settlement as recorded: since when the endpoint fails (ms, 0 = it does not), or dropped. */
export type SettledAttempt =
  | { outcome: Exclude<Settlement['outcome'], 'drop'>; failingSince: number }
  /** Its subscription is gone: deleted before the attempt, or while it was in flight. */
  | { outcome: 'drop' };

/**
 * Whether the settlement is of a request the endpoint failed (an error answer, a timeout, a refused
 * connection). Only such a one starts the endpoint's disable-after clock, and only such a one may
 * disable it: one that made no request (not sent, or aborted at shutdown) says nothing of it.
 */
export function endpointFailed(settlement: Settlement): boolean {
  return 'endpointFailed' in settlement && settlement.endpointFailed;
}

/**
 * What an attempt says of its endpoint, for the disable-after clock: failed ('1'), answered ('0',
 * the clock restarts), or nothing ('': aborted at shutdown, or not made), which leaves the clock.
 */
function endpointVerdict(settlement: Settlement): '1' | '0' | '' {
  if (settlement.outcome === 'delivered') return '0';
  return endpointFailed(settlement) ? '1' : '';
}

/**
 * When the retry period of a request made under this claim counts from. WEBHOOK_RETRY_PERIOD_SECONDS
 * runs from the first attempt, and attempts are requests: from the first request made since the
 * delivery was written or redelivered, as recorded before it was made, or, when none was, this
 * claim, whose request is the first. Tries that sent nothing before it (a master key this process
 * lacked), or whose claims lapsed before a request, would otherwise have used up the period its
 * retries get.
 */
export function requestPeriodFrom(delivery: ClaimedDelivery): number {
  return delivery.firstRequestAt ?? delivery.claimedAt;
}

export class DeliveryNotFoundError extends Error {
  constructor(readonly deliveryId: string) {
    super(`webhook delivery ${deliveryId} not found`);
    this.name = 'DeliveryNotFoundError';
  }
}

export class DeliveryPendingError extends Error {
  constructor(readonly deliveryId: string) {
    super(`webhook delivery ${deliveryId} is still pending; it is attempted already`);
    this.name = 'DeliveryPendingError';
  }
}

const iso = (ms: string | undefined): string | null => (ms ? new Date(Number(ms)).toISOString() : null);

/** A page of a subscription's deliveries, newest first. */
export interface DeliveryPage {
  items: WebhookDelivery[];
  /** Pass as `cursor` for the next page; null on the last. */
  nextCursor: string | null;
}

/** How long finished deliveries are kept, listed and redeliverable (then they expire). */
export interface DeliveryRetention {
  /** WEBHOOK_DELIVERY_RETENTION_SECONDS */
  deliveredSeconds: number;
  /** WEBHOOK_DEAD_RETENTION_SECONDS */
  deadSeconds: number;
}

/**
 * The deliveries the outbox projection wrote: claimed by dispatchers, settled after each attempt,
 * listed and redelivered through the API. Every change is one script on the `{p}` keys.
 */
export class WebhookOutbox {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: WebhookKeys,
    private readonly retention: DeliveryRetention,
  ) {}

  /**
   * Up to `limit` due deliveries, each held until `claimUntil` (ms) for this caller; with `share`,
   * none of a subscription whose receiver would then have more than `share.perReceiver` attempts
   * in flight (`share.inFlight`, the caller's own), so one receiver that never answers cannot take
   * every slot, whatever number of subscriptions send to it (claim-webhook-deliveries-3.lua).
   */
  async claim(now: number, claimUntil: number, limit: number, share?: ClaimShare): Promise<ClaimedDelivery[]> {
    const claim = randomUUID();
    const inFlight = [...(share?.inFlight ?? [])];
    const flat = (await claimScript.run(
      this.redis,
      [this.keys.due, this.keys.pending, this.keys.queueHeads],
      [
        now,
        claimUntil,
        limit,
        this.keys.deliveryPrefix,
        claim,
        this.keys.missionQueuePrefix,
        share?.perReceiver ?? limit,
        CLAIM_READ,
        inFlight.length,
        ...inFlight.flat(),
        ...[...(share?.receiverOf ?? [])].flat(),
      ],
    )) as (string | number)[];
    const claimed: ClaimedDelivery[] = [];
    for (let i = 0; i + 8 < flat.length; i += 9) {
      claimed.push({
        id: String(flat[i]),
        subscriptionId: String(flat[i + 1]),
        missionId: String(flat[i + 2]),
        body: String(flat[i + 3]),
        attempts: Number(flat[i + 4]),
        firstAttemptAt: Number(flat[i + 5]),
        attemptsAtRedelivery: Number(flat[i + 6]),
        unsentTries: Number(flat[i + 7]),
        firstRequestAt: flat[i + 8] === '' ? null : Number(flat[i + 8]),
        claimedAt: now,
        claim,
      });
    }
    return claimed;
  }

  /**
   * Records the attempt; resolves with how it was recorded, or null when the claim had lapsed. One
   * whose subscription was deleted while it was in flight is dropped, whatever it came to.
   */
  async settle(delivery: ClaimedDelivery, settlement: Settlement, now: number): Promise<SettledAttempt | null> {
    const args = [
      delivery.id,
      delivery.claim,
      settlement.outcome,
      now,
      settlement.outcome === 'retry' ? settlement.at : 0,
      'responseCode' in settlement ? settlement.responseCode : 0,
      'error' in settlement ? settlement.error : '',
      delivery.subscriptionId,
      endpointVerdict(settlement),
      this.retention.deliveredSeconds,
      this.retention.deadSeconds,
      this.keys.deliveryPrefix,
      'notSent' in settlement ? '1' : '',
      delivery.missionId,
      'stopped' in settlement ? '1' : '',
    ];
    const keys = [
      this.keys.delivery(delivery.id),
      this.keys.due,
      this.keys.missionQueue(delivery.subscriptionId, delivery.missionId),
      this.keys.dead(delivery.subscriptionId),
      this.keys.failingSince,
      this.keys.pending,
      this.keys.queueHeads,
      this.keys.subscriptions,
    ];
    const [code, failingSince] = (await settleScript.run(this.redis, keys, args)) as [number, number?];
    if (code === SettleCode.Stale) return null;
    if (code === SettleCode.Dropped || settlement.outcome === 'drop') return { outcome: 'drop' };
    return { outcome: settlement.outcome, failingSince: Number(failingSince ?? 0) };
  }

  /**
   * Records that a request of `delivery` is about to be made under its claim, and, when it is its
   * first (firstRequestAt null), from its claim's time (begin-webhook-request-1.lua): a claim that
   * then lapses keeps its attempt, as the request may have reached the receiver, and a first one
   * made whose settling is lost is still the first. False when the claim lapsed and another
   * dispatcher holds it: nothing is recorded, and the request is that one's to make (the lapsed
   * claim, having recorded none, counted no attempt).
   */
  async beginRequest(delivery: ClaimedDelivery): Promise<boolean> {
    const code = await beginRequestScript.run(this.redis, [this.keys.delivery(delivery.id)], [delivery.claim, delivery.claimedAt]);
    return code === RequestCode.Recorded;
  }

  /** Due again now, with the same webhook-id, as `actor` asked; throws DeliveryNotFoundError or DeliveryPendingError. */
  async redeliver(subscriptionId: string, deliveryId: string, now: number, actor: string): Promise<WebhookDelivery> {
    const owner = await this.redis.hget(this.keys.delivery(deliveryId), 'subscription');
    if (owner !== subscriptionId) throw new DeliveryNotFoundError(deliveryId);
    const [code, snapshot = []] = (await redeliverScript.run(
      this.redis,
      [this.keys.delivery(deliveryId), this.keys.due, this.keys.dead(subscriptionId), this.keys.pending],
      [deliveryId, now, actor],
    )) as [number, string[]?];
    if (code === RedeliverCode.NotFound) throw new DeliveryNotFoundError(deliveryId);
    if (code === RedeliverCode.Pending) throw new DeliveryPendingError(deliveryId);
    // As the script left it: a dispatcher may have delivered it again before another read.
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < snapshot.length; i += 2) fields[snapshot[i]] = snapshot[i + 1];
    return toDelivery(deliveryId, fields);
  }

  async get(deliveryId: string): Promise<WebhookDelivery | null> {
    const fields = await this.redis.hgetall(this.keys.delivery(deliveryId));
    return fields.status ? toDelivery(deliveryId, fields) : null;
  }

  /**
   * A subscription's deliveries, newest first; with `status`, only those (dead ones from their own
   * list, by when they died). `cursor` is the previous page's nextCursor: the last entry's score and
   * id (`<score>.<id>.<binding>`), since dead ones that settled in the same millisecond share a
   * score, bound to this subscription and status (deliveryCursorBinding: another's is a
   * DeliveryCursorMismatchError, before anything is read). A page reads at most
   * MAX_SCANNED_PER_PAGE entries of the list: one with a status that few have may come back short,
   * even empty, with a nextCursor where it stopped. A full page has a nextCursor only when another
   * delivery follows it (the last page has none, so no empty page follows it). Entries whose delivery expired are passed over
   * (the list sweep and the dead deliveries' pruning remove them, not a read: see sweep).
   */
  async list(subscriptionId: string, options: { status?: DeliveryStatus; limit: number; cursor?: string }): Promise<DeliveryPage> {
    const listKey = options.status === 'dead' ? this.keys.dead(subscriptionId) : this.keys.deliveries(subscriptionId);
    const items: WebhookDelivery[] = [];
    const binding = deliveryCursorBinding(subscriptionId, options.status);
    let last = options.cursor ? parseDeliveryCursor(options.cursor, binding) : null;
    /** The page's last delivery, once the page is full: the next page starts after it, if there is one. */
    let pageEnd: DeliveryCursor | null = null;
    for (let scanned = 0; scanned < MAX_SCANNED_PER_PAGE;) {
      // At least SCAN_BATCH a round trip (one past `limit`, to tell whether a next page exists): a small page of a status few have would take one per `limit` entries.
      const wanted = Math.min(Math.max(options.limit + 1, SCAN_BATCH), MAX_SCANNED_PER_PAGE - scanned);
      const batch = await this.entriesAfter(listKey, last, wanted);
      // One round trip for the batch (the connection pipelines what is sent in the same tick).
      const deliveries = await Promise.all(batch.map(([id]) => this.get(id)));
      for (const [i, [id, score]] of batch.entries()) {
        scanned += 1;
        last = { score, id };
        const delivery = deliveries[i];
        if (!delivery || (options.status && delivery.status !== options.status)) continue;
        // One delivery past a full page: there is a next page, and it starts with this one.
        if (pageEnd) return { items, nextCursor: formatDeliveryCursor(pageEnd, binding) };
        items.push(delivery);
        if (items.length === options.limit) pageEnd = last;
      }
      // A short batch is the list's end: no next page to point to.
      if (batch.length < wanted) return { items, nextCursor: null };
    }
    const stop = pageEnd ?? last;
    return { items, nextCursor: stop ? formatDeliveryCursor(stop, binding) : null };
  }

  /** The list's entries after `last` in its order (score descending, then id descending, as Redis orders equal scores). */
  private async entriesAfter(listKey: string, last: DeliveryCursor | null, limit: number): Promise<[id: string, score: string][]> {
    const place = last ? { score: parseScore(last.score), member: last.id } : { score: Infinity, member: null };
    const flat = await membersAfter(this.redis, listKey, place, { order: 'desc', end: '-inf', limit });
    const entries: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push([flat[i], flat[i + 1]]);
    return entries;
  }

  /**
   * Deletes what a deleted subscription leaves: its dead deliveries and its lists. Pending ones are
   * dropped by the dispatcher when their turn comes, delivered ones expire on their own.
   */
  async forget(subscriptionId: string): Promise<void> {
    const dead = await this.redis.zrange(this.keys.dead(subscriptionId), 0, -1);
    for (let i = 0; i < dead.length; i += 500) await this.redis.del(...dead.slice(i, i + 500).map((id) => this.keys.delivery(id)));
    await this.redis.del(this.keys.dead(subscriptionId), this.keys.deliveries(subscriptionId));
    await this.redis.hdel(this.keys.listSweep, subscriptionId);
  }

  /**
   * Tidies a subscription's lists without a delivery written or dying (sweep-webhook-deliveries-3.lua):
   * deletes up to PRUNE_BATCH deliveries dead for longer than their retention at `now` (ms), and
   * checks the next SWEEP_ENTRIES entries of its delivery list, dropping those whose delivery is gone.
   */
  async sweep(subscriptionId: string, now: number): Promise<void> {
    await sweepScript.run(
      this.redis,
      [this.keys.deliveries(subscriptionId), this.keys.dead(subscriptionId), this.keys.listSweep],
      [subscriptionId, now, this.retention.deadSeconds, this.keys.deliveryPrefix],
    );
  }

  /**
   * Deliveries waiting to be attempted (due now or later, claimed ones, retries and those behind an
   * earlier delivery of their mission included): the backlog. The size of a set the scripts add
   * each pending delivery to and remove it from as it is done, so one read whatever the backlog.
   */
  async backlog(): Promise<number> {
    return this.redis.scard(this.keys.pending);
  }
}

function toDelivery(id: string, fields: Record<string, string>): WebhookDelivery {
  return {
    id,
    subscriptionId: fields.subscription,
    missionId: fields.mission,
    type: fields.type,
    status: fields.status as DeliveryStatus,
    attempts: Number(fields.attempts ?? 0),
    lastResponseCode: fields.lastStatus && fields.lastStatus !== '0' ? Number(fields.lastStatus) : null,
    lastError: fields.lastError || null,
    createdAt: iso(fields.createdAt) as string,
    lastAttemptAt: iso(fields.lastAttemptAt),
    nextAttemptAt: fields.status === 'pending' ? iso(fields.nextAt) : null,
    deliveredAt: iso(fields.deliveredAt),
    deadAt: iso(fields.deadAt),
    redeliveredBy: fields.redeliveredBy || null,
    redeliveredAt: iso(fields.redeliveredAt),
  };
}
