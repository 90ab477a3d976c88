import { getMaxListeners } from 'node:events';
import fc from 'fast-check';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { KeyLayout } from '@app/event-store';
import { GuestDataError, GuestDataErrorCode, MasterKeyRing, WrongMasterKeyError } from '@app/guest-data';
import { decideCreate, MISSION_EVENT_TYPES } from '@app/mission';
import { ProjectionRunner, projectionLag } from '@app/projections';
import {
  aCreate,
  buildKnownLog,
  deleteKeysByPrefix,
  KNOWN_EVENT_COUNT,
  KNOWN_MISSIONS,
  KNOWN_START,
  KnownLog,
  knownStepTime,
  testKeyPrefix,
  waitFor,
  WebhookReceiver,
  testRedis,
  TEST_DATA_KEY_SECRET,
} from '@app/testing';
import {
  DeliveryCursorMismatchError,
  deliveryCursorBinding,
  MAX_WEBHOOK_SECRETS,
  MISSION_FINISHED,
  TargetUrlPolicy,
  TooManyWebhookSecretsError,
  WebhookDispatcher,
  WebhookDispatcherOptions,
  WebhookKeys,
  WebhookMetrics,
  WebhookOutbox,
  WebhookOutboxProjection,
  WebhookSender,
  WebhookSubscriptions,
  WEBHOOK_OUTBOX,
} from '@app/webhooks';

/** The known log: 34 events, and four missions that end (m-ok and m-retry succeed, m-dead is dead-lettered, m-cancel cancelled). */
const FINISHED = 4;
const ALL_TYPES = [...MISSION_EVENT_TYPES, MISSION_FINISHED];
const RETENTION = { deliveredSeconds: 3_600, deadSeconds: 7_200 };
const RING = MasterKeyRing.fromSecrets(TEST_DATA_KEY_SECRET);
const SUBSCRIBED_AT = () => KNOWN_START.getTime() - 3_600_000;
/** A master key other than RING's: a process with only this one lacks the key the secrets are under. */
const OTHER_MASTER_SECRET = 'another-master-key-of-forty-characters-00';

describe('webhook outbox and dispatcher (real Redis, a receiver on loopback)', () => {
  let redis: Redis;
  let prefix: string;
  let keys: KeyLayout;
  let webhookKeys: WebhookKeys;
  let subscriptions: WebhookSubscriptions;
  let outbox: WebhookOutbox;
  let receiver: WebhookReceiver;
  let known: KnownLog;
  const running: { stop(): Promise<void> }[] = [];

  const runner = (options: ConstructorParameters<typeof ProjectionRunner>[3] = {}) => {
    const created = new ProjectionRunner(redis, keys, new WebhookOutboxProjection(webhookKeys, subscriptions), { blockMs: 50, ...options });
    running.push(created);
    return created;
  };
  /** A dispatcher whose attempts time out after its timeoutMs, as the intake's do. */
  const dispatcher = (options: Partial<WebhookDispatcherOptions> = {}, signing = subscriptions, policy = new TargetUrlPolicy('127.0.0.1', true)) => {
    const sender = new WebhookSender(policy, options.timeoutMs ?? 2_000);
    const created = new WebhookDispatcher(outbox, signing, sender, {
      retry: { backoffMs: 20, backoffMaxMs: 100, retryPeriodMs: 60_000 },
      disableAfterMs: 60_000,
      timeoutMs: 2_000,
      pollMs: 20,
      ...options,
    });
    running.push(created);
    return created;
  };
  /** Subscribed before the known log's story begins (in 2025), so it wants all of it. */
  const subscribe = async (eventTypes = ALL_TYPES) => {
    const created = await subscriptions.create({ url: receiver.url, eventTypes, description: 'test' }, 'test-operator');
    receiver.secrets = [created.secret];
    return created;
  };

  beforeAll(() => {
    redis = testRedis();
  });
  beforeEach(async () => {
    prefix = testKeyPrefix('webhooks');
    keys = new KeyLayout(prefix);
    webhookKeys = new WebhookKeys(keys);
    subscriptions = new WebhookSubscriptions(redis, webhookKeys, RING, SUBSCRIBED_AT);
    outbox = new WebhookOutbox(redis, webhookKeys, RETENTION);
    receiver = await WebhookReceiver.start();
    known = await buildKnownLog(redis, keys);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((item) => item.stop()));
    await receiver.close();
    await deleteKeysByPrefix(redis, prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('given a subscription to every type, then each event and each end arrives once, signed, in log order per mission', async () => {
    await subscribe();
    expect(await runner().catchUp()).toBe(KNOWN_EVENT_COUNT);
    dispatcher().start();

    const unique = await waitFor(async () => receiver.unique().length === KNOWN_EVENT_COUNT + FINISHED && receiver.unique(), {
      timeoutMs: 20_000,
      what: 'every delivery to arrive',
    });
    expect(receiver.received.every((webhook) => webhook.verifiedBy.length === 1)).toBe(true);
    expect(receiver.received).toHaveLength(KNOWN_EVENT_COUNT + FINISHED);
    const finished = unique.filter((webhook) => webhook.message.type === MISSION_FINISHED).map((webhook) => webhook.message.data);
    expect(finished).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ missionId: KNOWN_MISSIONS.ok, status: 'succeeded' }),
        expect.objectContaining({ missionId: KNOWN_MISSIONS.retry, status: 'succeeded' }),
        expect.objectContaining({ missionId: KNOWN_MISSIONS.dead, status: 'dead_lettered' }),
        expect.objectContaining({ missionId: KNOWN_MISSIONS.cancel, status: 'cancelled' }),
      ]),
    );
    for (const missionId of Object.values(KNOWN_MISSIONS)) {
      const versions = unique
        .filter((webhook) => webhook.message.type !== MISSION_FINISHED && webhook.message.data.missionId === missionId)
        .map((webhook) => webhook.message.data.version);
      expect(versions).toEqual([...versions].sort((a, b) => Number(a) - Number(b)));
    }
    const [subscription] = await subscriptions.list();
    // A delivery is settled after the receiver answered it.
    const page = await waitFor(
      async () => {
        const listed = await outbox.list(subscription.id, { status: 'delivered', limit: 200 });
        return listed.items.length === KNOWN_EVENT_COUNT + FINISHED && listed;
      },
      { timeoutMs: 10_000, what: 'every delivery to be settled' },
    );
    expect(page.items.every((delivery) => delivery.attempts === 1 && delivery.lastResponseCode === 200)).toBe(true);
  });

  it('given no subscription, then a batch only moves the checkpoint: none of its events is parsed and nothing is enqueued', async () => {
    const projection = new WebhookOutboxProjection(webhookKeys, subscriptions);
    const [stream] = keys.partitions.map((partition) => partition.log);
    const [[lastId]] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const batch = {
      stream,
      after: '',
      lastId,
      entries: KNOWN_EVENT_COUNT,
      get events(): never {
        throw new Error('the events were parsed');
      },
      unreadable: [],
    };
    expect(await projection.apply(redis, batch)).toEqual({ kind: 'applied', applied: 0, ignored: 0 });
    expect(await redis.hget(webhookKeys.checkpoint, stream)).toBe(lastId);
    expect(await redis.zcard(webhookKeys.due)).toBe(0);
  });

  it('given no subscription, when the outbox catches up, then it passes over the whole log without reading an entry, and a subscription made after gets only what comes after', async () => {
    // Any read of the log's entries fails the catch-up: without a subscription nothing may read them.
    const noEntryReads = new Proxy(redis, {
      get(target, property) {
        if (property === 'xread' || property === 'xrange') throw new Error(`the log was read (${String(property)})`);
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const passing = new ProjectionRunner(noEntryReads, keys, new WebhookOutboxProjection(webhookKeys, subscriptions));
    expect(await passing.catchUp()).toBe(KNOWN_EVENT_COUNT);
    expect(await projectionLag(redis, keys, WEBHOOK_OUTBOX)).toEqual({ events: 0, seconds: 0 });
    expect(await redis.zcard(webhookKeys.due)).toBe(0);

    const { subscription } = await subscribe();
    const at = new Date();
    await known.store.append('m-after', null, decideCreate(aCreate(), at), { actor: 'intake', now: at });
    // MissionCreated and MissionQueued, nothing of the log before the subscription.
    expect(await runner().catchUp()).toBe(2);
    const pending = (await outbox.list(subscription.id, { limit: 200 })).items;
    expect(pending.length).toBeGreaterThan(0);
    expect(new Set(pending.map((delivery) => delivery.missionId))).toEqual(new Set(['m-after']));
  });

  it('given a receiver that answers 500 and then 429 before it recovers, then each delivery is retried with the same webhook-id until it is acknowledged', async () => {
    await subscribe([MISSION_FINISHED]);
    const failures = new Map<string, number>();
    receiver.respond = (webhook) => {
      const seen = failures.get(webhook.id) ?? 0;
      failures.set(webhook.id, seen + 1);
      return seen === 0 ? 500 : seen === 1 ? 429 : 200;
    };
    await runner().catchUp();
    dispatcher().start();

    await waitFor(async () => receiver.unique().length === FINISHED, { timeoutMs: 20_000, what: 'the finished missions to be acknowledged' });
    expect(receiver.received).toHaveLength(3 * FINISHED);
    for (const [, count] of failures) expect(count).toBe(3);
    const [subscription] = await subscriptions.list();
    const page = await waitFor(
      async () => {
        const listed = await outbox.list(subscription.id, { status: 'delivered', limit: 10 });
        return listed.items.length === FINISHED && listed;
      },
      { timeoutMs: 10_000, what: 'every delivery to be settled' },
    );
    expect(page.items.map((delivery) => [delivery.attempts, delivery.lastResponseCode])).toEqual(Array(FINISHED).fill([3, 200]));
  });

  it('given an endpoint answering 500, then the backlog counts every delivery waiting, and only the head of each mission has a nextAttemptAt; a deletion brings it to 0', async () => {
    const { subscription } = await subscribe();
    receiver.respond = () => 500;
    const missions = Object.values(KNOWN_MISSIONS).length;
    await runner().catchUp();
    // It was the number of (subscription, mission) queue heads: 5 here, not the 38 deliveries waiting.
    expect(await outbox.backlog()).toBe(KNOWN_EVENT_COUNT + FINISHED);

    const outcomes: string[] = [];
    const failing = dispatcher({ retry: { backoffMs: 60_000, backoffMaxMs: 60_000, retryPeriodMs: 600_000 }, onAttempt: (outcome) => outcomes.push(outcome) });
    failing.start();
    await waitFor(async () => outcomes.length === missions, { timeoutMs: 10_000, what: 'a first attempt of each mission' });
    await failing.stop();

    expect(await outbox.backlog()).toBe(KNOWN_EVENT_COUNT + FINISHED);
    const pending = (await outbox.list(subscription.id, { status: 'pending', limit: 200 })).items;
    expect(pending).toHaveLength(KNOWN_EVENT_COUNT + FINISHED);
    const heads = pending.filter((delivery) => delivery.attempts === 1);
    expect(heads).toHaveLength(missions);
    for (const head of heads) expect(Date.parse(head.nextAttemptAt ?? '')).toBeGreaterThan(Date.parse(head.lastAttemptAt ?? ''));
    // Behind their mission's head they showed their createdAt, in the past, while they wait for it.
    expect(pending.filter((delivery) => delivery.attempts === 0).map((delivery) => delivery.nextAttemptAt)).toEqual(
      Array(KNOWN_EVENT_COUNT + FINISHED - missions).fill(null),
    );

    // Deleted with deliveries pending: each is dropped in its turn, and the backlog does not keep them.
    await subscriptions.delete(subscription.id, 'test-operator');
    await outbox.forget(subscription.id);
    dispatcher({ clock: () => Date.now() + 120_000 }).start();
    await waitFor(async () => (await outbox.backlog()) === 0, { timeoutMs: 10_000, what: 'the backlog to drain' });
    expect(await redis.exists(webhookKeys.pending)).toBe(0);
  });

  it('given a delivery written before the backlog was kept, when it is claimed, then the backlog counts it until it is done', async () => {
    await subscribe([MISSION_FINISHED]);
    receiver.respond = () => 500;
    await runner().catchUp();
    await redis.del(webhookKeys.pending);
    const outcomes: string[] = [];
    const failing = dispatcher({ retry: { backoffMs: 60_000, backoffMaxMs: 60_000, retryPeriodMs: 600_000 }, onAttempt: (outcome) => outcomes.push(outcome) });
    failing.start();
    await waitFor(async () => outcomes.length === FINISHED, { timeoutMs: 10_000, what: 'a first attempt of each delivery' });
    await failing.stop();
    expect(await outbox.backlog()).toBe(FINISHED);

    receiver.respond = () => 200;
    dispatcher({ clock: () => Date.now() + 120_000 }).start();
    await waitFor(async () => (await outbox.backlog()) === 0, { timeoutMs: 10_000, what: 'the backlog to drain' });
  });

  it('given an endpoint disabled after a request answered 500, then its deliveries die with why and no attempt is counted for what was not sent', async () => {
    const { subscription } = await subscribe();
    receiver.respond = () => 500;
    const missions = Object.values(KNOWN_MISSIONS).length;
    await runner().catchUp();
    const outcomes: string[] = [];
    const failing = dispatcher({ retry: { backoffMs: 60_000, backoffMaxMs: 60_000, retryPeriodMs: 600_000 }, onAttempt: (outcome) => outcomes.push(outcome) });
    failing.start();
    await waitFor(async () => outcomes.length === missions, { timeoutMs: 10_000, what: 'a first attempt of each mission' });
    await failing.stop();
    const attempted = new Map((await outbox.list(subscription.id, { status: 'pending', limit: 200 })).items.map((delivery) => [delivery.id, delivery]));

    await subscriptions.disable(subscription.id, 'failing', 'test-operator');
    dispatcher({ clock: () => Date.now() + 120_000 }).start();
    const dead = await waitFor(
      async () => {
        const page = await outbox.list(subscription.id, { status: 'dead', limit: 200 });
        return page.items.length === KNOWN_EVENT_COUNT + FINISHED && page.items;
      },
      { timeoutMs: 20_000, what: 'every delivery to die' },
    );

    expect(receiver.received).toHaveLength(missions);
    // The head of each mission kept its one real attempt (it read attempts 2, lastResponseCode null).
    const heads = dead.filter((delivery) => attempted.get(delivery.id)?.attempts === 1);
    expect(heads).toHaveLength(missions);
    for (const head of heads) {
      expect(head).toMatchObject({
        attempts: 1,
        lastResponseCode: 500,
        lastError: 'endpoint disabled: failing',
        lastAttemptAt: attempted.get(head.id)?.lastAttemptAt,
      });
    }
    // The others were never sent (they read attempts 1).
    const others = dead.filter((delivery) => !heads.includes(delivery));
    expect(others.map(({ attempts, lastResponseCode, lastAttemptAt, lastError }) => ({ attempts, lastResponseCode, lastAttemptAt, lastError }))).toEqual(
      Array(KNOWN_EVENT_COUNT + FINISHED - missions).fill({
        attempts: 0,
        lastResponseCode: null,
        lastAttemptAt: null,
        lastError: 'endpoint disabled: failing',
      }),
    );
    expect(await outbox.backlog()).toBe(0);
  });

  it('given dead deliveries that settled in the same millisecond, when the dead list is paged, then each comes once and none is skipped', async () => {
    const subscriptionId = 'wh_tied';
    const deadAt = 1_765_000_000_000;
    const ids = ['a', 'b', 'c', 'd', 'e'].map((letter) => `msg_${letter.repeat(32)}`);
    for (const [i, id] of ids.entries()) {
      // The last one died a millisecond earlier than the four others.
      const at = i < 4 ? deadAt : deadAt - 1;
      await redis.hset(webhookKeys.delivery(id), {
        subscription: subscriptionId,
        mission: `m-${i}`,
        type: MISSION_FINISHED,
        status: 'dead',
        attempts: '3',
        createdAt: String(at - 60_000),
        deadAt: String(at),
      });
      await redis.zadd(webhookKeys.dead(subscriptionId), at, id);
    }

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 5; pages += 1) {
      const page = await outbox.list(subscriptionId, { status: 'dead', limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((delivery) => delivery.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }

    // Newest first; equal times by id, descending (as Redis orders them).
    expect(seen).toEqual([ids[3], ids[2], ids[1], ids[0], ids[4]]);

    // A cursor of the dead ones (by when they died) went on in the list of all (by creation), and in another subscription's.
    const dead = await outbox.list(subscriptionId, { status: 'dead', limit: 2 });
    expect(dead.nextCursor).toEqual(expect.any(String));
    for (const [other, status] of [
      [subscriptionId, undefined],
      [subscriptionId, 'delivered'],
      ['wh_ffffffffffffffffffffffff', 'dead'],
    ] as const) {
      await expect(outbox.list(other, { status, limit: 2, cursor: dead.nextCursor as string })).rejects.toBeInstanceOf(DeliveryCursorMismatchError);
    }
  });

  it('given any deliveries, some dying in the same millisecond, and any page size, then the pages give each once, newest first, and no empty page follows a nextCursor', async () => {
    const STATUSES = ['pending', 'delivered', 'dead'] as const;
    const deliveries = fc.array(fc.record({ at: fc.integer({ min: 0, max: 8 }), status: fc.constantFrom(...STATUSES) }), { maxLength: 30 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(deliveries, fc.integer({ min: 1, max: 12 }), fc.constantFrom(undefined, ...STATUSES), async (written, limit, status) => {
        run += 1;
        const subscriptionId = `wh_paged${run}`;
        const listed = written.map((delivery, i) => ({ ...delivery, id: `msg_${run.toString(16).padStart(8, '0')}${i.toString(16).padStart(24, '0')}` }));
        const pipeline = redis.pipeline();
        for (const [i, delivery] of listed.entries()) {
          pipeline.hset(webhookKeys.delivery(delivery.id), {
            subscription: subscriptionId,
            mission: `m-${i}`,
            type: MISSION_FINISHED,
            status: delivery.status,
            attempts: '1',
            createdAt: String(KNOWN_START.getTime() + delivery.at),
            ...(delivery.status === 'dead' ? { deadAt: String(KNOWN_START.getTime() + delivery.at) } : {}),
          });
          pipeline.zadd(webhookKeys.deliveries(subscriptionId), KNOWN_START.getTime() + delivery.at, delivery.id);
          // The dead ones are listed from their own list, by when they died.
          if (delivery.status === 'dead') pipeline.zadd(webhookKeys.dead(subscriptionId), KNOWN_START.getTime() + delivery.at, delivery.id);
        }
        await pipeline.exec();

        // Newest first; equal times by id, descending (as Redis orders them).
        const expected = listed
          .filter((delivery) => !status || delivery.status === status)
          .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
          .map((delivery) => delivery.id);
        const seen: string[] = [];
        const sizes: number[] = [];
        let cursor: string | null = null;
        do {
          const page = await outbox.list(subscriptionId, { limit, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
          seen.push(...page.items.map((delivery) => delivery.id));
          sizes.push(page.items.length);
          cursor = page.nextCursor;
        } while (cursor !== null && sizes.length <= expected.length);
        expect(seen).toEqual(expected);
        expect(sizes).toEqual(
          expected.length === 0 ? [0] : Array.from({ length: Math.ceil(expected.length / limit) }, (_, i) => Math.min(limit, expected.length - i * limit)),
        );
      }),
      { numRuns: 40 },
    );
  });

  it('given a long list with few of a status, then a page reads at most 5,000 entries and says where it stopped, and the next page goes on from there', async () => {
    const subscriptionId = 'wh_long';
    const pipeline = redis.pipeline();
    // 5,100 deliveries, newest first in the list: only the two oldest are still pending.
    for (let sequence = 1; sequence <= 5_100; sequence += 1) {
      const id = `msg_${sequence.toString(16).padStart(32, '0')}`;
      pipeline.hset(webhookKeys.delivery(id), {
        subscription: subscriptionId,
        mission: `m-${sequence}`,
        type: MISSION_FINISHED,
        status: sequence <= 2 ? 'pending' : 'delivered',
        attempts: '1',
        createdAt: String(KNOWN_START.getTime() + sequence),
      });
      pipeline.zadd(webhookKeys.deliveries(subscriptionId), sequence, id);
    }
    await pipeline.exec();

    // It read the whole list, one delivery at a time, for a page of a status few have.
    const first = await outbox.list(subscriptionId, { status: 'pending', limit: 10 });
    expect(first.items).toEqual([]);
    expect(first.nextCursor).toBe(`101.msg_${(101).toString(16).padStart(32, '0')}.${deliveryCursorBinding(subscriptionId, 'pending')}`);
    const second = await outbox.list(subscriptionId, { status: 'pending', limit: 10, cursor: first.nextCursor ?? '' });
    expect(second.items.map((delivery) => delivery.missionId)).toEqual(['m-2', 'm-1']);
    expect(second.nextCursor).toBeNull();
  });

  it('given a dead delivery, then it expires after the dead retention, and the next death deletes those dead for longer, an old one without expiry too', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const now = Date.now();
    const [first, second, third] = await outbox.claim(now, now + 60_000, 10);
    const dead = { outcome: 'dead', responseCode: 503, error: 'answered 503', endpointFailed: true } as const;

    await outbox.settle(first, dead, now);
    const ttl = await redis.pttl(webhookKeys.delivery(first.id));
    expect(ttl).toBeGreaterThan(RETENTION.deadSeconds * 1000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(RETENTION.deadSeconds * 1000);
    // As a delivery that died before dead ones expired was left: no expiry of its own.
    await outbox.settle(second, dead, now);
    await redis.persist(webhookKeys.delivery(second.id));

    await outbox.settle(third, dead, now + RETENTION.deadSeconds * 1000 + 1);
    expect(await redis.exists(webhookKeys.delivery(first.id), webhookKeys.delivery(second.id))).toBe(0);
    expect(await redis.zrange(webhookKeys.dead(subscription.id), 0, -1)).toEqual([third.id]);
    expect((await outbox.list(subscription.id, { status: 'dead', limit: 10 })).items.map((delivery) => delivery.id)).toEqual([third.id]);
  });

  it("given deliveries that expired, when more are written, then the subscription's list is swept of them and keeps the others", async () => {
    const { subscription } = await subscribe();
    await runner().catchUp();
    const list = webhookKeys.deliveries(subscription.id);
    const written = await redis.zrange(list, 0, -1);
    expect(written).toHaveLength(KNOWN_EVENT_COUNT + FINISHED);
    // As Redis expires delivered ones: the hash goes, the list entry stays.
    const expired = written.slice(0, 30);
    await redis.del(...expired.map((id) => webhookKeys.delivery(id)));

    for (let i = 0; i < 10; i += 1) {
      const at = knownStepTime(100 + i);
      await known.store.append(`m-more-${i}`, null, decideCreate(aCreate(), at), { actor: 'intake', now: at });
    }
    await runner().catchUp();

    const listed = await redis.zrange(list, 0, -1);
    expect(listed.filter((id) => expired.includes(id))).toEqual([]);
    expect(listed).toEqual(expect.arrayContaining(written.slice(30)));
    const exists = await Promise.all(listed.map((id) => redis.exists(webhookKeys.delivery(id))));
    expect(exists.every((count) => count === 1)).toBe(true);
  });

  it("given a peak of deliveries that then expired, when none are written any more, then each sweep tick checks the next 100 entries of the subscription's list, and the list comes down to the deliveries that exist", async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    const list = webhookKeys.deliveries(subscription.id);
    const ids = Array.from({ length: 250 }, (_, i) => `msg_${(i + 1).toString(16).padStart(32, '0')}`);
    const pipeline = redis.pipeline();
    for (const [i, id] of ids.entries()) {
      pipeline.hset(webhookKeys.delivery(id), { subscription: subscription.id, mission: `m-${i}`, type: MISSION_FINISHED, status: 'delivered' });
      pipeline.zadd(list, i + 1, id);
    }
    await pipeline.exec();
    // As Redis expires delivered ones after their retention: every 20th is still there.
    const existing = ids.filter((_, i) => (i + 1) % 20 === 0);
    await redis.del(...ids.filter((id) => !existing.includes(id)).map((id) => webhookKeys.delivery(id)));
    const sweeping = dispatcher();

    const lengths: number[] = [];
    for (let tick = 0; tick < 3; tick += 1) {
      await sweeping.sweep();
      lengths.push(await redis.zcard(list));
    }

    // 100 entries a tick, from where the last stopped: 95 dropped, then 95, then the last 48.
    expect(lengths).toEqual([155, 60, existing.length]);
    expect(await redis.zrange(list, 0, -1)).toEqual(existing);
    // Round again from the start.
    expect(await redis.hget(webhookKeys.listSweep, subscription.id)).toBe('0');
  });

  it('given a started dispatcher and no traffic, then it sweeps on its own, every sweepEveryMs', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    const list = webhookKeys.deliveries(subscription.id);
    // Ids whose deliveries expired.
    await redis.zadd(list, 1, `msg_${'1'.repeat(32)}`, 2, `msg_${'2'.repeat(32)}`);
    dispatcher({ sweepEveryMs: 20 }).start();

    await waitFor(async () => (await redis.exists(list)) === 0, { timeoutMs: 5_000, what: 'the list to be swept' });
  });

  it('given a subscription whose deliveries all died, when none dies any more, then a sweep tick past the dead retention deletes them from both lists, not before', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const diedAt = Date.now();
    const claimed = await outbox.claim(diedAt, diedAt + 60_000, 10);
    expect(claimed).toHaveLength(FINISHED);
    for (const delivery of claimed) await outbox.settle(delivery, { outcome: 'dead', responseCode: 503, error: 'answered 503', endpointFailed: true }, diedAt);
    let now = diedAt + RETENTION.deadSeconds * 1000 - 1_000;
    const sweeping = dispatcher({ clock: () => now });

    await sweeping.sweep();
    expect(await redis.zcard(webhookKeys.dead(subscription.id))).toBe(FINISHED);
    expect(await redis.zcard(webhookKeys.deliveries(subscription.id))).toBe(FINISHED);

    now = diedAt + RETENTION.deadSeconds * 1000 + 1;
    await sweeping.sweep();
    expect(await redis.exists(webhookKeys.dead(subscription.id), webhookKeys.deliveries(subscription.id))).toBe(0);
    expect(await redis.exists(...claimed.map((delivery) => webhookKeys.delivery(delivery.id)))).toBe(0);
    expect((await outbox.list(subscription.id, { limit: 10 })).items).toEqual([]);
  });

  it('given a receiver that keeps failing, then deliveries die after the retry period, are listed, the endpoint is disabled, and a redelivery after enabling it arrives with the same id', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    receiver.respond = () => 503;
    await runner().catchUp();
    const failing = dispatcher({ retry: { backoffMs: 20, backoffMaxMs: 40, retryPeriodMs: 300 }, disableAfterMs: 100 });
    failing.start();

    const disabled = await waitFor(async () => (await subscriptions.get(subscription.id))?.status === 'disabled' && subscriptions.get(subscription.id), {
      timeoutMs: 20_000,
      what: 'the failing endpoint to be disabled',
    });
    expect(disabled).toMatchObject({ disabledReason: expect.stringContaining('WEBHOOK_DISABLE_AFTER_SECONDS') });
    const dead = await waitFor(
      async () =>
        (await outbox.list(subscription.id, { status: 'dead', limit: 10 })).items.length === FINISHED
          ? outbox.list(subscription.id, { status: 'dead', limit: 10 })
          : null,
      {
        timeoutMs: 20_000,
        what: 'every delivery to be dead',
      },
    );
    expect(dead.items.every((delivery) => delivery.status === 'dead' && delivery.deadAt !== null)).toBe(true);
    expect(receiver.unique()).toHaveLength(0);

    receiver.respond = () => 204;
    await subscriptions.enable(subscription.id, 'test-operator');
    const target = dead.items[0];
    await outbox.redeliver(subscription.id, target.id, Date.now(), 'test-operator');
    await waitFor(async () => (await outbox.get(target.id))?.status === 'delivered', { timeoutMs: 10_000, what: 'the redelivery' });
    expect(receiver.unique().map((webhook) => webhook.id)).toEqual([target.id]);
    expect(await outbox.get(target.id)).toMatchObject({ status: 'delivered', lastResponseCode: 204, redeliveredBy: 'test-operator' });
    expect((await outbox.list(subscription.id, { status: 'dead', limit: 10 })).items).toHaveLength(FINISHED - 1);

    await subscriptions.delete(subscription.id, 'test-operator');
    await outbox.forget(subscription.id);
    for (const delivery of dead.items.slice(1)) expect(await outbox.get(delivery.id)).toBeNull();
    expect(await redis.exists(webhookKeys.dead(subscription.id), webhookKeys.deliveries(subscription.id), webhookKeys.secrets, webhookKeys.listSweep)).toBe(0);
  });

  /**
   * Holds back what the settling of a failed request returns (the failure clock the dispatcher
   * decides on) until `meanwhile` has run; a success is settled after that failed request was, and
   * `meanwhile` is given the promise of its settling.
   */
  const decidingLate = (meanwhile: (successSettled: Promise<void>) => Promise<unknown>) => {
    const settle = outbox.settle.bind(outbox);
    let failedWritten: () => void = () => undefined;
    const failedSettled = new Promise<void>((resolve) => (failedWritten = resolve));
    let successWritten: () => void = () => undefined;
    const successSettled = new Promise<void>((resolve) => (successWritten = resolve));
    jest.spyOn(outbox, 'settle').mockImplementation(async (delivery, settlement, now) => {
      if (settlement.outcome === 'delivered') await failedSettled;
      const settled = await settle(delivery, settlement, now);
      if (settlement.outcome === 'delivered') successWritten();
      else {
        failedWritten();
        await meanwhile(successSettled);
      }
      return settled;
    });
  };

  it('given an endpoint failing for longer than WEBHOOK_DISABLE_AFTER_SECONDS, when a request to it succeeds while a failed one is being decided on, then it is not disabled', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const disableAfterMs = 60_000;
    await redis.hset(webhookKeys.failingSince, subscription.id, String(Date.now() - 2 * disableAfterMs));
    // Two requests in flight as it recovers: the first answered 503, the second 200.
    let answered = 0;
    receiver.respond = () => (answered++ === 0 ? 503 : 200);
    decidingLate((successSettled) => successSettled);
    const disabled: string[] = [];
    const recovering = dispatcher({ disableAfterMs, concurrency: 2, perReceiver: 2, onDisabled: (id) => disabled.push(id) });

    expect(await recovering.runOnce()).toBe(2);
    // It was disabled from the clock the 503's settling read, which the 200 had cleared since.
    expect(await subscriptions.get(subscription.id)).toMatchObject({ status: 'active', version: 1 });
    expect(disabled).toEqual([]);
    expect(await redis.hget(webhookKeys.failingSince, subscription.id)).toBeNull();
    const tried = (await endsOf(subscription.id)).filter((delivery) => delivery.attempts > 0);
    expect(tried.map((delivery) => delivery.status).sort()).toEqual(['delivered', 'pending']);
  });

  it('given an endpoint failing for longer than WEBHOOK_DISABLE_AFTER_SECONDS, when an operator enables it again while a failed request is being decided on, then it stays enabled', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const disableAfterMs = 60_000;
    await redis.hset(webhookKeys.failingSince, subscription.id, String(Date.now() - 2 * disableAfterMs));
    receiver.respond = () => 503;
    // Disabled (by another intake's dispatcher, say) and enabled again by an operator meanwhile.
    decidingLate(async () => {
      await subscriptions.disable(subscription.id, 'failing', 'test-operator');
      await subscriptions.enable(subscription.id, 'test-operator');
    });
    const disabled: string[] = [];

    expect(await dispatcher({ disableAfterMs, concurrency: 1, onDisabled: (id) => disabled.push(id) }).runOnce()).toBe(1);
    // It was disabled again, from the clock the enable had restarted.
    expect(await subscriptions.get(subscription.id)).toMatchObject({ status: 'active', version: 3 });
    expect(disabled).toEqual([]);
  });

  it('given an endpoint failing for longer than WEBHOOK_DISABLE_AFTER_SECONDS, then the dispatcher disables it only while its failure clock reads what it decided on, and an operator whatever the clock', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    const since = Date.now() - 120_000;
    await redis.hset(webhookKeys.failingSince, subscription.id, String(since));

    expect(await subscriptions.disableFailing(subscription.id, 'failing', 'webhook-dispatcher', since - 1)).toBe(false);
    expect(await subscriptions.get(subscription.id)).toMatchObject({ status: 'active', version: 1 });
    expect(await subscriptions.disableFailing(subscription.id, 'failing', 'webhook-dispatcher', since)).toBe(true);
    expect(await subscriptions.get(subscription.id)).toMatchObject({ status: 'disabled', disabledReason: 'failing', version: 2 });
    expect(await subscriptions.disableFailing(subscription.id, 'failing', 'webhook-dispatcher', since)).toBe(false);

    await subscriptions.enable(subscription.id, 'test-operator');
    expect(await subscriptions.disable(subscription.id, 'maintenance', 'test-operator')).toMatchObject({ status: 'disabled', disabledReason: 'maintenance' });
  });

  it('given attempts in flight, when their subscription is deleted before the receiver answers 410, then they settle as dropped and leave nothing of it behind', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    let answer: (status: number) => void = () => undefined;
    const answered = new Promise<number>((resolve) => (answer = resolve));
    receiver.respond = () => answered;
    await runner().catchUp();
    const outcomes: string[] = [];
    dispatcher({ onAttempt: (outcome) => outcomes.push(outcome) }).start();
    await waitFor(async () => receiver.arrived === FINISHED, { timeoutMs: 10_000, what: 'an attempt of each delivery in flight' });
    const inFlight = (await outbox.list(subscription.id, { status: 'pending', limit: 10 })).items;
    expect(inFlight).toHaveLength(FINISHED);

    await subscriptions.delete(subscription.id, 'test-operator');
    await outbox.forget(subscription.id);
    answer(410);
    await waitFor(async () => outcomes.length === FINISHED, { timeoutMs: 10_000, what: 'the attempts in flight to settle' });

    // They settled dead: a dead list of the deleted id holding them, their hashes kept for the dead
    // retention, its failure clock started, and each counted as a dead delivery.
    expect(outcomes).toEqual(Array(FINISHED).fill('drop'));
    for (const delivery of inFlight) expect(await redis.exists(webhookKeys.delivery(delivery.id))).toBe(0);
    expect(await redis.exists(webhookKeys.dead(subscription.id), webhookKeys.deliveries(subscription.id))).toBe(0);
    expect(await redis.hget(webhookKeys.failingSince, subscription.id)).toBeNull();
    expect(await outbox.backlog()).toBe(0);
  });

  it('given a delivery that died after several retries, when it is redelivered and fails again, then its next retry waits the first backoff, and its attempts go on counting', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    const backoffMs = 1_000;
    await runner().catchUp();
    let now = Date.now();
    const retry = { backoffMs, backoffMaxMs: 3_600_000, retryPeriodMs: 86_400_000 };
    const failing = dispatcher({ clock: () => now, retry, disableAfterMs: 86_400_000 });
    const deliveries = async () => (await outbox.list(subscription.id, { limit: 10 })).items;
    // Six failed attempts, the clock moved to when the last of them is due again, then a 410: dead after 7.
    receiver.respond = () => 503;
    for (let attempt = 1; attempt <= 7; attempt++) {
      if (attempt === 7) receiver.respond = () => 410;
      expect(await failing.runOnce()).toBe(FINISHED);
      now = Math.max(now, ...(await deliveries()).map((delivery) => Date.parse(delivery.nextAttemptAt ?? '0')));
    }
    const [target] = await deliveries();
    expect(target).toMatchObject({ status: 'dead', attempts: 7 });

    receiver.respond = () => 503;
    await outbox.redeliver(subscription.id, target.id, now, 'test-operator');
    expect(await failing.runOnce()).toBe(1);

    const retried = await outbox.get(target.id);
    expect(retried).toMatchObject({ status: 'pending', attempts: 8, lastResponseCode: 503 });
    // It waited as an 8th attempt would: 64 to 128 s (30 to 60 min with the default backoff).
    const backoff = Date.parse(retried?.nextAttemptAt ?? '') - Date.parse(retried?.lastAttemptAt ?? '');
    expect(backoff).toBeGreaterThanOrEqual(backoffMs / 2);
    expect(backoff).toBeLessThanOrEqual(backoffMs);
  });

  it('given a disabled endpoint with its failure clock, when it is enabled or deleted by a process that dies right after, then the clock went with the event', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await subscriptions.disable(subscription.id, 'failing', 'test-operator');
    const failingSince = async () => redis.hget(webhookKeys.failingSince, subscription.id);
    await redis.hset(webhookKeys.failingSince, subscription.id, String(Date.now() - 86_400_000));
    // The process dies right after the event's append: a write it would make after that never happens.
    const dying = new Proxy(redis, {
      get(target, property) {
        if (property === 'hdel') return () => Promise.reject(new Error('killed'));
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const dyingSubscriptions = new WebhookSubscriptions(dying, webhookKeys, RING, SUBSCRIBED_AT);

    await dyingSubscriptions.enable(subscription.id, 'test-operator').catch(() => undefined);
    expect((await subscriptions.get(subscription.id))?.status).toBe('active');
    expect(await failingSince()).toBeNull();

    await redis.hset(webhookKeys.failingSince, subscription.id, String(Date.now() - 86_400_000));
    await dyingSubscriptions.delete(subscription.id, 'test-operator').catch(() => undefined);
    expect(await subscriptions.get(subscription.id)).toBeNull();
    expect(await failingSince()).toBeNull();
  });

  it('given more than ten attempts in flight at once, then the signal they all listen on allows that many listeners (no leak warning)', async () => {
    // Three subscriptions to every type: the heads of 3 × 5 missions' queues are due at once.
    for (let count = 0; count < 3; count++) await subscribe();
    await runner().catchUp();
    /** The sender, recording the signal each attempt listens on. */
    class RecordingSender extends WebhookSender {
      readonly signals = new Set<AbortSignal>();
      async send(webhook: Parameters<WebhookSender['send']>[0], signal?: AbortSignal) {
        if (signal) this.signals.add(signal);
        return super.send(webhook, signal);
      }
    }
    const sender = new RecordingSender(new TargetUrlPolicy('127.0.0.1', true), 2_000);
    let open!: () => void;
    const eleven = new Promise<void>((resolve) => (open = resolve));
    let arrived = 0;
    receiver.respond = async () => {
      if (++arrived === 11) open();
      await eleven;
      return 200;
    };
    const sending = new WebhookDispatcher(outbox, subscriptions, sender, {
      retry: { backoffMs: 20, backoffMaxMs: 100, retryPeriodMs: 60_000 },
      disableAfterMs: 60_000,
      timeoutMs: 2_000,
      pollMs: 20,
      concurrency: 16,
    });
    running.push(sending);
    sending.start();

    await eleven;
    expect(sender.signals.size).toBe(1);
    // Node warns of a leak (MaxListenersExceededWarning) past a signal's limit, 10 unless raised.
    expect(getMaxListeners([...sender.signals][0])).toBeGreaterThanOrEqual(16);
    await waitFor(async () => (await outbox.backlog()) === 0, { timeoutMs: 20_000, what: 'every delivery to be settled' });
  });

  it("given a receiver that never answers with a backlog longer than a claim reads, when a healthy one's deliveries come due after it, then they go out while the stuck one holds only its share of the slots", async () => {
    // The old claim took the due deliveries in due order into 16 slots shared by all: the stuck
    // receiver's backlog filled them, and the healthy one waited out its attempts (timeoutMs each).
    // The backlog is longer than the 100 due deliveries a claim reads: passing over it is not enough.
    const stuck = await WebhookReceiver.start();
    running.push({ stop: () => stuck.close() });
    stuck.respond = () => new Promise<number>(() => undefined);
    const hung = await subscriptions.create({ url: stuck.url, eventTypes: ALL_TYPES, description: 'never answers' }, 'test-operator');
    stuck.secrets = [hung.secret];
    for (let i = 0; i < 120; i += 1) {
      const at = knownStepTime(100 + i);
      await known.store.append(`m-backlog-${i}`, null, decideCreate(aCreate(), at), { actor: 'intake', now: at });
    }
    // The stuck one's backlog is due a minute before the healthy one's deliveries: first in due order.
    const earlier = new WebhookOutboxProjection(webhookKeys, subscriptions, () => Date.now() - 60_000);
    await new ProjectionRunner(redis, keys, earlier).catchUp();
    const backlog = await redis.zcount(webhookKeys.due, '-inf', '+inf');
    expect(backlog).toBeGreaterThan(100);
    const { subscription: healthy } = await subscribe();
    const at = new Date();
    await known.store.append('m-healthy', null, decideCreate(aCreate(), at), { actor: 'intake', now: at });
    await runner().catchUp();
    const expected = await redis.zcard(webhookKeys.deliveries(healthy.id));
    expect(expected).toBeGreaterThan(1);

    dispatcher({ timeoutMs: 60_000, concurrency: 16 }).start();
    const arrived = await waitFor(async () => stuck.arrived >= 4 && receiver.unique().length === expected && receiver.unique(), {
      timeoutMs: 10_000,
      what: "the healthy receiver's deliveries while the stuck one's attempts hang",
    });
    // Still in flight, and no more of them than a quarter of the slots.
    expect(stuck.arrived).toBe(4);
    expect(stuck.received).toHaveLength(0);
    const versions = arrived.map((webhook) => Number(webhook.message.data.version));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });

  it('given four subscriptions to one receiver that never answers, when a healthy one has deliveries due after theirs, then they go out while the stuck receiver holds only one share', async () => {
    // The share was per subscription: four subscriptions to one hung endpoint took 4 of 16 slots
    // each, all of them, and every other receiver waited out their attempts (timeoutMs each).
    const stuck = await WebhookReceiver.start();
    running.push({ stop: () => stuck.close() });
    stuck.respond = () => new Promise<number>(() => undefined);
    for (const path of ['/a', '/b', '/c', '/d']) {
      const hung = await subscriptions.create({ url: `${stuck.url}${path}`, eventTypes: ALL_TYPES, description: 'never answers' }, 'test-operator');
      stuck.secrets.push(hung.secret);
    }
    // The stuck one's deliveries are due a minute before the healthy one's: first in due order.
    const earlier = new WebhookOutboxProjection(webhookKeys, subscriptions, () => Date.now() - 60_000);
    await new ProjectionRunner(redis, keys, earlier).catchUp();
    expect(await redis.zcount(webhookKeys.due, '-inf', '+inf')).toBeGreaterThanOrEqual(16);
    const { subscription: healthy } = await subscribe();
    const at = new Date();
    await known.store.append('m-healthy', null, decideCreate(aCreate(), at), { actor: 'intake', now: at });
    await runner().catchUp();
    const expected = await redis.zcard(webhookKeys.deliveries(healthy.id));

    dispatcher({ timeoutMs: 60_000, concurrency: 16 }).start();
    await waitFor(async () => stuck.arrived >= 4 && receiver.unique().length === expected, {
      timeoutMs: 10_000,
      what: "the healthy receiver's deliveries while the stuck one's attempts hang",
    });
    // A quarter of the slots for the receiver, not a quarter for each of its subscriptions.
    expect(stuck.arrived).toBe(4);
  });

  it('given one subscription with more due than its share, then each attempt that settles makes room for the next at once, not after pollMs', async () => {
    await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    // A claim that finds only deliveries of a subscription at its share claims none: were the
    // dispatcher to wait pollMs then, one busy subscription would get a share per poll.
    let open = 0;
    let mostOpen = 0;
    // Each answer waits for the next turn of the event loop, so attempts sent together overlap here.
    receiver.respond = async () => {
      mostOpen = Math.max(mostOpen, ++open);
      await new Promise((resolve) => setImmediate(resolve));
      open -= 1;
      return 200;
    };
    dispatcher({ perReceiver: 1, pollMs: 60_000 }).start();
    await waitFor(async () => receiver.unique().length === FINISHED, { timeoutMs: 10_000, what: 'the finished missions, one at a time' });
    // Its share: one attempt at a time (without one, all went out at once).
    expect(mostOpen).toBe(1);
  });

  it('given an outbox stopped after one batch and a dispatcher that died holding claims, when both start again, then every delivery arrives, none is lost', async () => {
    await subscribe();
    const first = runner({ batchSize: 5, maxBatches: 1 });
    first.start();
    await first.finished;
    // A dispatcher that claimed what was due, sent nothing and died: its claims lapse after 300 ms.
    const abandoned = await outbox.claim(Date.now(), Date.now() + 300, 100);
    expect(abandoned.length).toBeGreaterThan(0);

    runner().start();
    dispatcher().start();
    await waitFor(async () => receiver.unique().length === KNOWN_EVENT_COUNT + FINISHED, { timeoutMs: 20_000, what: 'every delivery after the restart' });
    const ids = receiver.unique().map((webhook) => webhook.id);
    expect(new Set(ids).size).toBe(KNOWN_EVENT_COUNT + FINISHED);
    // The abandoned claims were attempted again: the claim that died before any request is no attempt.
    const [subscription] = await subscriptions.list();
    const settled = await waitFor(
      async () => {
        const listed = await outbox.list(subscription.id, { status: 'delivered', limit: 200 });
        return listed.items.length === KNOWN_EVENT_COUNT + FINISHED && listed;
      },
      { timeoutMs: 10_000, what: 'every delivery to be settled' },
    );
    const attempts = settled.items.filter((delivery) => abandoned.some((claim) => claim.id === delivery.id));
    expect(attempts).toHaveLength(abandoned.length);
    expect(attempts.every((delivery) => delivery.attempts === 1)).toBe(true);
  });

  it('given a rotated secret, then deliveries carry two signatures, one per secret, until the overlap ends', async () => {
    const { subscription, secret: old } = await subscribe([MISSION_FINISHED]);
    const rotated = await subscriptions.rotateSecret(subscription.id, 3_600_000, 'test-operator');
    receiver.secrets = [rotated.secret, old];
    await runner().catchUp();
    dispatcher().start();

    await waitFor(async () => receiver.unique().length === FINISHED, { timeoutMs: 20_000, what: 'the deliveries' });
    for (const webhook of receiver.received) {
      expect(webhook.signature.split(' ')).toHaveLength(2);
      expect(webhook.verifiedBy).toEqual([rotated.secret, old]);
    }
    expect(rotated.subscription.previousSecretUntil).toEqual(expect.any(String));
  });

  /** A subscription's secrets as a process whose clock reads `clock.now` rotates and signs with them. */
  const atClock = (clock: { now: number }) => new WebhookSubscriptions(redis, webhookKeys, RING, () => clock.now);
  const iso = (ms: number) => new Date(ms).toISOString();

  it('given two rotations within the overlap, then deliveries carry a signature each of S0, S1 and S2 verifies, each until the time its rotation promised', async () => {
    const start = SUBSCRIBED_AT();
    const clock = { now: start };
    const rotating = atClock(clock);
    const { subscription, secret: s0 } = await rotating.create({ url: receiver.url, eventTypes: [MISSION_FINISHED], description: 'test' }, 'test-operator');
    const first = await rotating.rotateSecret(subscription.id, 60_000, 'test-operator');
    clock.now += 10;
    // Repeated, as by an operator whose first answer was lost: S0 was promised until the first answer's previousSecretUntil.
    const second = await rotating.rotateSecret(subscription.id, 60_000, 'test-operator');
    expect(first.subscription).toMatchObject({ previousSecretUntil: iso(start + 60_000), previousSecretsUntil: [iso(start + 60_000)] });
    expect(second.subscription).toMatchObject({
      previousSecretUntil: iso(start + 60_010),
      previousSecretsUntil: [iso(start + 60_010), iso(start + 60_000)],
    });
    receiver.secrets = [s0, first.secret, second.secret];
    await runner().catchUp();
    dispatcher({}, rotating).start();

    await waitFor(async () => receiver.unique().length === FINISHED, { timeoutMs: 20_000, what: 'the deliveries' });
    for (const webhook of receiver.received) {
      expect(webhook.signature.split(' ')).toHaveLength(3);
      expect(webhook.verifiedBy).toEqual([s0, first.secret, second.secret]);
    }
    clock.now = start + 60_000;
    expect(await rotating.secretsInForce(subscription.id)).toEqual([second.secret, first.secret]);
    clock.now = start + 60_010;
    expect(await rotating.secretsInForce(subscription.id)).toEqual([second.secret]);
  });

  it(`given ${MAX_WEBHOOK_SECRETS} secrets signing, then a rotation is refused naming when the first overlap ends, and fits once it has`, async () => {
    const start = SUBSCRIBED_AT();
    const clock = { now: start };
    const rotating = atClock(clock);
    const { subscription, secret: s0 } = await rotating.create({ url: receiver.url, eventTypes: [MISSION_FINISHED], description: 'test' }, 'test-operator');
    const rotated: string[] = [];
    for (let i = 1; i < MAX_WEBHOOK_SECRETS; i++) {
      rotated.unshift((await rotating.rotateSecret(subscription.id, 60_000, 'test-operator')).secret);
      clock.now += 1_000;
    }
    const stored = await redis.hget(webhookKeys.secrets, subscription.id);

    const refused = rotating.rotateSecret(subscription.id, 60_000, 'test-operator');
    await expect(refused).rejects.toThrow(TooManyWebhookSecretsError);
    await expect(refused).rejects.toThrow(`has ${MAX_WEBHOOK_SECRETS} secrets signing, the most kept`);
    await expect(refused).rejects.toThrow(`the first one ends at ${iso(start + 60_000)}`);
    expect(await redis.hget(webhookKeys.secrets, subscription.id)).toBe(stored);
    expect((await rotating.require(subscription.id)).version).toBe(MAX_WEBHOOK_SECRETS);
    expect(await rotating.secretsInForce(subscription.id)).toEqual([...rotated, s0]);

    clock.now = start + 60_000;
    const next = await rotating.rotateSecret(subscription.id, 60_000, 'test-operator');
    expect(await rotating.secretsInForce(subscription.id)).toEqual([next.secret, ...rotated]);
  });

  it('given a refused rotation with a shorter overlap than the earlier ones, then the 409 names when an earlier secret ends, the same when retried', async () => {
    const start = SUBSCRIBED_AT();
    const clock = { now: start };
    const rotating = atClock(clock);
    const { subscription } = await rotating.create({ url: receiver.url, eventTypes: [MISSION_FINISHED], description: 'test' }, 'test-operator');
    for (let i = 1; i < MAX_WEBHOOK_SECRETS; i++) {
      await rotating.rotateSecret(subscription.id, 86_400_000, 'test-operator');
      clock.now += 1_000;
    }

    // It named now + 60 s, the time the refused rotation would have given the current secret, at which nothing
    // ends: retried then, it was refused again, naming a minute later still.
    const firstEnds = `the first one ends at ${iso(start + 86_400_000)}`;
    await expect(rotating.rotateSecret(subscription.id, 60_000, 'test-operator')).rejects.toThrow(firstEnds);
    clock.now += 60_001;
    await expect(rotating.rotateSecret(subscription.id, 60_000, 'test-operator')).rejects.toThrow(firstEnds);
    clock.now = start + 86_400_000;
    await expect(rotating.rotateSecret(subscription.id, 60_000, 'test-operator')).resolves.toMatchObject({ secret: expect.any(String) });
  });

  it('given a rotation with no overlap, then the replaced secret stops signing at once and previousSecretsUntil still lists it first, ended', async () => {
    const start = SUBSCRIBED_AT();
    const clock = { now: start };
    const rotating = atClock(clock);
    const { subscription, secret: s0 } = await rotating.create({ url: receiver.url, eventTypes: [MISSION_FINISHED], description: 'test' }, 'test-operator');
    await rotating.rotateSecret(subscription.id, 60_000, 'test-operator');
    clock.now += 1_000;

    // It listed only the earlier secret: not the one it replaced, as previousSecretUntil and the docs do.
    const second = await rotating.rotateSecret(subscription.id, 0, 'test-operator');

    expect(second.subscription).toMatchObject({
      previousSecretUntil: iso(start + 1_000),
      previousSecretsUntil: [iso(start + 1_000), iso(start + 60_000)],
    });
    expect(await rotating.secretsInForce(subscription.id)).toEqual([second.secret, s0]);
  });

  it('given a record and secrets written before previous secrets were listed, then they read as they were and a rotation keeps the previous one', async () => {
    const { subscription, secret: s0 } = await subscribe([MISSION_FINISHED]);
    const first = await subscriptions.rotateSecret(subscription.id, 3_600_000, 'test-operator');
    const { previousSecretsUntil, ...asWrittenBefore } = first.subscription;
    await redis.hset(webhookKeys.subscriptions, subscription.id, JSON.stringify(asWrittenBefore));

    expect(await subscriptions.get(subscription.id)).toEqual({ ...asWrittenBefore, previousSecretsUntil });
    expect((await subscriptions.list()).map((record) => record.previousSecretsUntil)).toEqual([[first.subscription.previousSecretUntil]]);
    const second = await subscriptions.rotateSecret(subscription.id, 3_600_000, 'test-operator');
    expect(await subscriptions.secretsInForce(subscription.id)).toEqual([second.secret, first.secret, s0]);
  });

  it('given a URL the policy does not allow at send time, then the delivery is dead with the reason, nothing is sent and no attempt is counted', async () => {
    const { subscription } = await subscriptions.create(
      { url: receiver.url.replace('127.0.0.1', '127.0.0.2'), eventTypes: [MISSION_FINISHED], description: '' },
      'test-operator',
    );
    await runner().catchUp();
    dispatcher().start();

    const dead = await waitFor(
      async () => {
        const page = await outbox.list(subscription.id, { status: 'dead', limit: 10 });
        return page.items.length === FINISHED && page;
      },
      { timeoutMs: 10_000, what: 'the refused deliveries' },
    );
    expect(dead.items[0].lastError).toContain('WEBHOOK_ALLOWED_HOSTS does not list');
    // No request was made: it counted one, and set a last attempt, as if one had been.
    expect(dead.items.map(({ attempts, lastResponseCode, lastAttemptAt }) => ({ attempts, lastResponseCode, lastAttemptAt }))).toEqual(
      Array(FINISHED).fill({ attempts: 0, lastResponseCode: null, lastAttemptAt: null }),
    );
    expect(await redis.hexists(webhookKeys.failingSince, subscription.id)).toBe(0);
    expect(receiver.received).toHaveLength(0);
  });

  it('given a subscription, then Redis holds its secret only sealed under the master key, and deliveries verify with the secret returned', async () => {
    const { subscription, secret } = await subscribe([MISSION_FINISHED]);
    const stored = (await redis.hget(webhookKeys.secrets, subscription.id)) ?? '';
    expect(JSON.parse(stored)).toEqual([{ sealed: expect.any(String), mk: RING.current.id, until: null }]);
    expect(JSON.stringify(await redis.hgetall(webhookKeys.secrets))).not.toContain('whsec_');
    expect(stored).not.toContain(secret.slice('whsec_'.length));
    // Bound to its subscription: copied to another one, it does not open.
    await redis.hset(webhookKeys.secrets, 'wh_000000000000000000000000', stored);
    await expect(subscriptions.secretsInForce('wh_000000000000000000000000')).rejects.toMatchObject({ code: GuestDataErrorCode.Tampered });
    await redis.hdel(webhookKeys.secrets, 'wh_000000000000000000000000');

    await runner().catchUp();
    dispatcher().start();
    await waitFor(async () => receiver.unique().length === FINISHED, { timeoutMs: 10_000, what: 'every delivery to arrive' });
    expect(receiver.received.every((webhook) => webhook.verifiedBy.length === 1)).toBe(true);
  });

  it('given a secret stored in plain (written before secrets were sealed), then deliveries are still signed with it, and a rotation seals it', async () => {
    const { subscription, secret } = await subscribe([MISSION_FINISHED]);
    await redis.hset(webhookKeys.secrets, subscription.id, JSON.stringify([{ secret, until: null }]));
    expect(await subscriptions.secretsInForce(subscription.id)).toEqual([secret]);
    await runner().catchUp();
    dispatcher().start();
    await waitFor(async () => receiver.unique().length === FINISHED, { timeoutMs: 10_000, what: 'every delivery to arrive' });
    expect(receiver.received.every((webhook) => webhook.verifiedBy.length === 1)).toBe(true);

    const rotated = await subscriptions.rotateSecret(subscription.id, 60_000, 'test-operator');
    expect(await redis.hget(webhookKeys.secrets, subscription.id)).not.toContain('whsec_');
    expect(await subscriptions.secretsInForce(subscription.id)).toEqual([rotated.secret, secret]);
  });

  /** Subscriptions as a process without RING's master key reads them: their secrets do not open. */
  const lackingKeySubscriptions = () => new WebhookSubscriptions(redis, webhookKeys, MasterKeyRing.fromSecrets(OTHER_MASTER_SECRET), SUBSCRIBED_AT);
  /** A subscription to mission ends, whose FINISHED deliveries a dispatcher without the master key tried once at `triedAt`, sending nothing. */
  const triedWithoutKey = async (retry: WebhookDispatcherOptions['retry']) => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const triedAt = Date.now();
    expect(await dispatcher({ clock: () => triedAt, retry }, lackingKeySubscriptions()).runOnce()).toBe(FINISHED);
    return { subscription, triedAt };
  };
  /** Subscriptions whose secrets are read only once `release` is called; `reading` resolves when FINISHED reads have begun. */
  const secretsHeldBack = () => {
    const signing = new WebhookSubscriptions(redis, webhookKeys, RING, SUBSCRIBED_AT);
    const secretsInForce = signing.secretsInForce.bind(signing);
    let allRead: () => void = () => undefined;
    const reading = new Promise<void>((resolve) => (allRead = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let asked = 0;
    jest.spyOn(signing, 'secretsInForce').mockImplementation(async (id) => {
      if (++asked === FINISHED) allRead();
      await released;
      return secretsInForce(id);
    });
    return { signing, reading, release };
  };
  /**
   * Runs a dispatcher round over FINISHED deliveries to a URL whose host resolves, under a policy
   * allowing `allowedHosts`, to `addresses` only once the dispatcher was stopped; resolves with
   * what its onAttempt was told, once the round has settled them.
   */
  const stopWhileResolving = async (allowedHosts: string, addresses: string[]) => {
    let asked = 0;
    let allAsked: () => void = () => undefined;
    const resolving = new Promise<void>((resolve) => (allAsked = resolve));
    let answer: (addresses: string[]) => void = () => undefined;
    const answered = new Promise<string[]>((resolve) => (answer = resolve));
    const resolveHost = () => {
      if (++asked === FINISHED) allAsked();
      return answered;
    };
    const outcomes: string[] = [];
    const policy = new TargetUrlPolicy(allowedHosts, false, resolveHost);
    const stopping = dispatcher({ perReceiver: FINISHED, onAttempt: (outcome) => outcomes.push(outcome) }, subscriptions, policy);
    const round = stopping.runOnce();
    await resolving;
    const stopped = stopping.stop();
    answer(addresses);
    expect(await round).toBe(FINISHED);
    await stopped;
    return outcomes;
  };
  /** The deliveries of a subscription to mission ends (FINISHED: one page). */
  const endsOf = async (subscriptionId: string) => (await outbox.list(subscriptionId, { limit: 10 })).items;
  /** Each of those deliveries matching `fields`. */
  const eachEnd = (fields: Record<string, unknown>) => Array.from({ length: FINISHED }, () => expect.objectContaining(fields));
  /**
   * Deliveries whose first request answered 503, their receiver still answering 503: the second
   * request, at `retriedAt`, is retried, and the third, at `deadAt`, is the last: they are dead.
   */
  const retriedThenDead = async (withKey: WebhookDispatcher, setNow: (at: number) => void, subscriptionId: string, [retriedAt, deadAt]: [number, number]) => {
    setNow(retriedAt);
    expect(await withKey.runOnce()).toBe(FINISHED);
    expect(await endsOf(subscriptionId)).toEqual(eachEnd({ status: 'pending', attempts: 2, lastResponseCode: 503 }));
    setNow(deadAt);
    expect(await withKey.runOnce()).toBe(FINISHED);
    expect(await endsOf(subscriptionId)).toEqual(eachEnd({ status: 'dead', attempts: 3, lastResponseCode: 503 }));
    expect(receiver.arrived).toBe(3 * FINISHED);
  };
  /** brain_webhook_attempts_total in `registry`, by outcome. */
  const attemptsCounted = async (registry: Registry) => {
    const values = (await registry.getSingleMetric('brain_webhook_attempts_total')?.get())?.values ?? [];
    return Object.fromEntries(values.map(({ labels, value }) => [String(labels.outcome), value]));
  };

  /** What lacks the master key: the dispatcher's secrets, or the data keys of the events it opens. */
  const lackingKey: [string, (ring: MasterKeyRing) => Partial<WebhookDispatcherOptions> & { signing?: WebhookSubscriptions }, (id: string) => RegExp][] = [
    [
      'its signing secret',
      () => ({ signing: lackingKeySubscriptions() }),
      (subscriptionId) =>
        new RegExp(`^not sent: the webhook signing secret of ${subscriptionId} is wrapped under master key ${RING.current.id}, which is not configured`),
    ],
    [
      "its event's data key",
      (ring) => ({
        openBody: async () => {
          throw new WrongMasterKeyError(RING.current.id, ring.ids);
        },
      }),
      () => new RegExp(`^not sent: a data subject's data key is wrapped under master key ${RING.current.id}, which is not configured`),
    ],
  ];

  it.each(lackingKey)(
    'given %s under a master key this process lacks, then nothing is sent, no attempt is counted, lastError says why and it is tried again after a growing backoff; with the key, each is delivered at its first attempt',
    async (_what, lacking, why) => {
      const { subscription } = await subscribe([MISSION_FINISHED]);
      await runner().catchUp();
      const otherRing = MasterKeyRing.fromSecrets(OTHER_MASTER_SECRET);
      const backoffMs = 1_000;
      let now = Date.now();
      const errors: unknown[] = [];
      const { signing, ...options } = lacking(otherRing);
      const withoutKey = dispatcher(
        { ...options, clock: () => now, onError: (error) => errors.push(error), retry: { backoffMs, backoffMaxMs: 60_000, retryPeriodMs: 3_600_000 } },
        signing,
      );
      const deliveries = async () => (await outbox.list(subscription.id, { limit: 10 })).items;
      const notSent = { status: 'pending', attempts: 0, lastAttemptAt: null, lastResponseCode: null, lastError: expect.stringMatching(why(subscription.id)) };

      const triedAt = now;
      expect(await withoutKey.runOnce()).toBe(FINISHED);
      const first = await deliveries();
      expect(first).toEqual(Array.from({ length: FINISHED }, () => expect.objectContaining(notSent)));
      // Its first backoff, not its claim's lapse (twice timeoutMs), nor due again at once.
      const firstWaits = first.map((delivery) => Date.parse(delivery.nextAttemptAt ?? '') - triedAt);
      expect(firstWaits.every((wait) => wait > 0 && wait <= backoffMs)).toBe(true);
      expect(await withoutKey.runOnce()).toBe(0);

      now = Math.max(...first.map((delivery) => Date.parse(delivery.nextAttemptAt ?? ''))) + 1;
      const againAt = now;
      expect(await withoutKey.runOnce()).toBe(FINISHED);
      const second = await deliveries();
      expect(second).toEqual(Array.from({ length: FINISHED }, () => expect.objectContaining(notSent)));
      // The second try waits the second step of the backoff: the wait grows, though no attempt was counted.
      expect(second.every((delivery) => Date.parse(delivery.nextAttemptAt ?? '') - againAt >= backoffMs)).toBe(true);
      expect(receiver.arrived).toBe(0);
      expect(errors).toEqual([]);
      // The error names key ids, never a secret.
      for (const secret of [...receiver.secrets, TEST_DATA_KEY_SECRET, OTHER_MASTER_SECRET]) expect(JSON.stringify(second)).not.toContain(secret);

      now = Math.max(...second.map((delivery) => Date.parse(delivery.nextAttemptAt ?? ''))) + 1;
      const withKey = dispatcher({ clock: () => now });
      expect(await withKey.runOnce()).toBe(FINISHED);
      expect(receiver.unique()).toHaveLength(FINISHED);
      expect(await deliveries()).toEqual(
        Array.from({ length: FINISHED }, () => expect.objectContaining({ status: 'delivered', attempts: 1, lastError: null, lastResponseCode: 200 })),
      );
    },
  );

  it('given a signing secret under a master key this process lacks for longer than the retry period, then its deliveries are dead unsent with why, and one redelivered with the key arrives at its first attempt', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const retry = { backoffMs: 1_000, backoffMaxMs: 60_000, retryPeriodMs: 10_000 };
    let now = Date.now();
    const withoutKey = dispatcher({ clock: () => now, retry }, lackingKeySubscriptions());
    expect(await withoutKey.runOnce()).toBe(FINISHED);
    // Tried at every backoff until the next would come after the retry period.
    while ((await outbox.list(subscription.id, { status: 'dead', limit: 10 })).items.length < FINISHED) {
      now += retry.backoffMs;
      await withoutKey.runOnce();
    }

    const dead = (await outbox.list(subscription.id, { status: 'dead', limit: 10 })).items;
    const why = expect.stringMatching(
      `^not sent: the webhook signing secret of ${subscription.id} is wrapped under master key ${RING.current.id}, which is not configured`,
    );
    expect(dead).toEqual(Array.from({ length: FINISHED }, () => expect.objectContaining({ attempts: 0, lastAttemptAt: null, lastError: why })));
    expect(receiver.arrived).toBe(0);

    await outbox.redeliver(subscription.id, dead[0].id, now, 'test-operator');
    expect(await dispatcher({ clock: () => now, retry }).runOnce()).toBe(1);
    expect(receiver.unique().map((webhook) => webhook.id)).toEqual([dead[0].id]);
    expect(await outbox.get(dead[0].id)).toMatchObject({ status: 'delivered', attempts: 1, lastError: null, lastResponseCode: 200 });
  });

  it('given an endpoint that failed and has since recovered, when only a dispatcher lacking the master key tries its deliveries past WEBHOOK_DISABLE_AFTER_SECONDS, then the subscription stays enabled, and with the key they are delivered', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const disableAfterMs = 600_000;
    const failedAt = Date.now();
    let now = failedAt;
    const disabled: string[] = [];
    const options = {
      clock: () => now,
      retry: { backoffMs: 1_000, backoffMaxMs: 60_000, retryPeriodMs: 86_400_000 },
      disableAfterMs,
      onDisabled: (subscriptionId: string) => disabled.push(subscriptionId),
    };
    const failingSince = () => redis.hget(webhookKeys.failingSince, subscription.id);
    receiver.respond = () => 500;
    expect(await dispatcher(options).runOnce()).toBe(FINISHED);
    expect(await failingSince()).toBe(String(failedAt));

    // The endpoint recovers, but the next tries, past the disable-after time, are by an intake without the key.
    receiver.respond = () => 200;
    now = failedAt + disableAfterMs + 1;
    expect(await dispatcher(options, lackingKeySubscriptions()).runOnce()).toBe(FINISHED);
    expect(disabled).toEqual([]);
    expect(await subscriptions.get(subscription.id)).toMatchObject({ status: 'active' });
    // They said nothing of the endpoint: its clock is as the requests left it.
    expect(await failingSince()).toBe(String(failedAt));
    expect(receiver.arrived).toBe(FINISHED);

    // Past their backoff, an intake with the key delivers them (a disabled endpoint's deliveries would die).
    now += 60_000;
    expect(await dispatcher(options).runOnce()).toBe(FINISHED);
    expect((await outbox.list(subscription.id, { limit: 10 })).items).toEqual(
      Array.from({ length: FINISHED }, () => expect.objectContaining({ status: 'delivered', attempts: 2, lastResponseCode: 200, lastError: null })),
    );
    expect(await failingSince()).toBeNull();
  });

  it('given an endpoint failing for longer than WEBHOOK_DISABLE_AFTER_SECONDS, when the target policy refuses its URL, then its deliveries die refused and the subscription is not disabled: no request was made', async () => {
    const { subscription } = await subscriptions.create(
      { url: receiver.url.replace('127.0.0.1', '127.0.0.2'), eventTypes: [MISSION_FINISHED], description: '' },
      'test-operator',
    );
    await runner().catchUp();
    const since = String(Date.now() - 86_400_000);
    await redis.hset(webhookKeys.failingSince, subscription.id, since);
    const disabled: string[] = [];

    expect(await dispatcher({ onDisabled: (subscriptionId) => disabled.push(subscriptionId) }).runOnce()).toBe(FINISHED);
    expect((await outbox.list(subscription.id, { status: 'dead', limit: 10 })).items).toEqual(
      Array.from({ length: FINISHED }, () =>
        expect.objectContaining({ attempts: 0, lastError: expect.stringContaining('WEBHOOK_ALLOWED_HOSTS does not list') }),
      ),
    );
    expect(disabled).toEqual([]);
    expect(await subscriptions.get(subscription.id)).toMatchObject({ status: 'active' });
    expect(await redis.hget(webhookKeys.failingSince, subscription.id)).toBe(since);
  });

  it('given deliveries unsent for most of the retry period for want of the master key, when it comes and their first request answers 503, then they are retried for a whole retry period from that request', async () => {
    const retry = { backoffMs: 1_000, backoffMaxMs: 60_000, retryPeriodMs: 3_600_000 };
    const { subscription, triedAt } = await triedWithoutKey(retry);
    let now = triedAt;
    const deliveries = () => endsOf(subscription.id);

    // The key is configured 500 ms before the period counted from the first try ends.
    receiver.respond = () => 503;
    const withKey = dispatcher({ clock: () => now, retry, disableAfterMs: 86_400_000 });
    const requestedAt = triedAt + retry.retryPeriodMs - 500;
    now = requestedAt;
    expect(await withKey.runOnce()).toBe(FINISHED);
    const first = await deliveries();
    expect(first).toEqual(eachEnd({ status: 'pending', attempts: 1, lastResponseCode: 503 }));
    // The wait after a first request (half to all of the first backoff), the unsent tries before it not counted.
    for (const delivery of first) {
      const wait = Date.parse(delivery.nextAttemptAt ?? '') - requestedAt;
      expect(wait).toBeGreaterThanOrEqual(retry.backoffMs / 2);
      expect(wait).toBeLessThanOrEqual(retry.backoffMs);
    }

    // Still retried shortly before the period from that request ends (the second wait is 1 to 2 s),
    // and dead once the next try would come after it.
    await retriedThenDead(withKey, (at) => (now = at), subscription.id, [requestedAt + retry.retryPeriodMs - 5_000, requestedAt + retry.retryPeriodMs]);
  });

  it('given deliveries unsent for want of the master key, when their first request answers 503 but settling it fails and the claim lapses, then the request made again is retried for a whole retry period from the first one, and no longer', async () => {
    const retry = { backoffMs: 1_000, backoffMaxMs: 60_000, retryPeriodMs: 3_600_000 };
    const timeoutMs = 2_000;
    const { subscription, triedAt } = await triedWithoutKey(retry);
    let now = triedAt;
    const deliveries = () => endsOf(subscription.id);

    // The key is configured 3 s before the period counted from the first try ends. The first request
    // reaches the receiver, but Redis fails as it is settled (a failover): its claim lapses.
    receiver.respond = () => 503;
    const errors: unknown[] = [];
    const withKey = dispatcher({ clock: () => now, retry, timeoutMs, disableAfterMs: 86_400_000, onError: (error) => errors.push(error) });
    const requestedAt = triedAt + retry.retryPeriodMs - 3_000;
    now = requestedAt;
    const settling = jest.spyOn(outbox, 'settle').mockRejectedValue(new Error('Connection is closed.'));
    expect(await withKey.runOnce()).toBe(FINISHED);
    settling.mockRestore();
    expect(errors).toEqual(Array.from({ length: FINISHED }, () => new Error('Connection is closed.')));
    expect(receiver.arrived).toBe(FINISHED);

    // Made again once the claim lapsed, it is the second request, still within the period of the
    // first, which the period counts from (not from the claim that made it again): dead at its end.
    await retriedThenDead(withKey, (at) => (now = at), subscription.id, [requestedAt + 2 * timeoutMs + 1, requestedAt + retry.retryPeriodMs]);

    // Redelivered, it is retried for a whole period again, from its next request.
    const [redelivered] = await deliveries();
    await outbox.redeliver(subscription.id, redelivered.id, now, 'test-operator');
    expect(await withKey.runOnce()).toBe(1);
    expect(await outbox.get(redelivered.id)).toMatchObject({ status: 'pending', attempts: 4, lastResponseCode: 503 });
  });

  it('given a try whose claim lapsed without a request (Redis timed out reading the secret) before tries unsent for want of the master key, when the key comes and the first request answers 503, then it is retried for a whole retry period from that request', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const retry = { backoffMs: 1_000, backoffMaxMs: 60_000, retryPeriodMs: 3_600_000 };
    const timeoutMs = 2_000;
    const triedAt = Date.now();
    let now = triedAt;
    const lacking = lackingKeySubscriptions();
    const timingOut = jest.spyOn(lacking, 'secretsInForce').mockRejectedValue(new Error('Command timed out'));
    const withoutKey = dispatcher({ clock: () => now, retry, timeoutMs, onError: () => undefined }, lacking);
    expect(await withoutKey.runOnce()).toBe(FINISHED);
    timingOut.mockRestore();
    // Claimed again once those claims lapsed: now settled unsent, for want of the key.
    now += 2 * timeoutMs + 1;
    expect(await withoutKey.runOnce()).toBe(FINISHED);
    expect(await endsOf(subscription.id)).toEqual(eachEnd({ status: 'pending', lastError: expect.stringMatching(/^not sent: /) }));

    // The key is configured 500 ms before the period counted from the first try ends.
    receiver.respond = () => 503;
    now = triedAt + retry.retryPeriodMs - 500;
    expect(await dispatcher({ clock: () => now, retry, timeoutMs, disableAfterMs: 86_400_000 }).runOnce()).toBe(FINISHED);
    expect(receiver.arrived).toBe(FINISHED);
    expect(await endsOf(subscription.id)).toEqual(eachEnd({ status: 'pending', lastResponseCode: 503 }));
  });

  it.each([
    ['its first request', 0],
    ['a later request', 1],
  ])(
    'given a claim that lapsed before %s was made, when another dispatcher has claimed the delivery since, then the first makes no request: the one holding it does, and the lapsed claim is no attempt',
    async (_which, requestsBefore) => {
      const { subscription } = await subscribe([MISSION_FINISHED]);
      await runner().catchUp();
      const timeoutMs = 2_000;
      const retry = { backoffMs: 1_000, backoffMaxMs: 60_000, retryPeriodMs: 3_600_000 };
      let now = Date.now();
      if (requestsBefore > 0) {
        receiver.respond = () => 503;
        expect(await dispatcher({ clock: () => now, timeoutMs, retry }).runOnce()).toBe(FINISHED);
        receiver.respond = () => 200;
        now += retry.backoffMs;
      }
      // Its secrets are read slowly, until the claims have lapsed and been taken over.
      const { signing, reading, release } = secretsHeldBack();
      const late = dispatcher({ clock: () => now, timeoutMs, retry }, signing);
      const round = late.runOnce();
      await reading;

      now += 2 * timeoutMs + 1;
      expect(await dispatcher({ clock: () => now, timeoutMs, retry }).runOnce()).toBe(FINISHED);
      release();
      expect(await round).toBe(FINISHED);
      expect(receiver.arrived).toBe((requestsBefore + 1) * FINISHED);
      expect(await endsOf(subscription.id)).toEqual(eachEnd({ status: 'delivered', attempts: requestsBefore + 1, lastResponseCode: 200 }));
    },
  );

  it('given claims that lapsed before any request (the dispatcher died), then they count no attempt, before the first request or a later one, while one that lapsed after its request keeps it', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const retry = { backoffMs: 1_000, backoffMaxMs: 60_000, retryPeriodMs: 3_600_000 };
    const timeoutMs = 2_000;
    let now = Date.now();
    receiver.respond = () => 503;
    const errors: unknown[] = [];
    const live = dispatcher({ clock: () => now, retry, timeoutMs, disableAfterMs: 86_400_000, onError: (error) => errors.push(error) });
    /** A dispatcher claims what is due now and dies before sending anything: the claims lapse. */
    const claimedAndDied = async () => expect(await outbox.claim(now, now + 2 * timeoutMs, 100)).toHaveLength(FINISHED);
    const nextDue = async () => Math.max(...(await endsOf(subscription.id)).map((delivery) => Date.parse(delivery.nextAttemptAt ?? '')));

    await claimedAndDied();
    now += 2 * timeoutMs + 1;
    const requestedAt = now;
    expect(await live.runOnce()).toBe(FINISHED);
    // The first request is the first attempt, and waits the first backoff (half to all of it), not the second.
    const first = await endsOf(subscription.id);
    expect(first).toEqual(eachEnd({ status: 'pending', attempts: 1, lastResponseCode: 503 }));
    for (const delivery of first) expect(Date.parse(delivery.nextAttemptAt ?? '') - requestedAt).toBeLessThanOrEqual(retry.backoffMs);

    // Lapsed again before the second request: still no attempt.
    now = await nextDue();
    await claimedAndDied();
    now += 2 * timeoutMs + 1;
    expect(await live.runOnce()).toBe(FINISHED);
    expect(await endsOf(subscription.id)).toEqual(eachEnd({ status: 'pending', attempts: 2, lastResponseCode: 503 }));

    // The third request reaches the receiver, but its settling fails: the claim that lapsed made a
    // request, and its attempt stays.
    now = await nextDue();
    const settling = jest.spyOn(outbox, 'settle').mockRejectedValue(new Error('Connection is closed.'));
    expect(await live.runOnce()).toBe(FINISHED);
    settling.mockRestore();
    expect(errors).toHaveLength(FINISHED);
    now += 2 * timeoutMs + 1;
    expect(await live.runOnce()).toBe(FINISHED);
    expect(receiver.arrived).toBe(4 * FINISHED);
    expect(await endsOf(subscription.id)).toEqual(eachEnd({ status: 'pending', attempts: 4, lastResponseCode: 503 }));
  });

  it('given tries unsent for want of the master key, when a claim that then made its request lapses, then the next claim counts no unsent try before it', async () => {
    await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const at = Date.now();
    for (const delivery of await outbox.claim(at, at + 1, 100)) {
      expect(await outbox.settle(delivery, { outcome: 'retry', at, error: 'not sent: no master key', notSent: true }, at)).not.toBeNull();
    }
    // The request is made under this claim, whose dispatcher then dies before settling it.
    const requested = await outbox.claim(at + 10, at + 11, 100);
    expect(requested).toEqual(Array.from({ length: FINISHED }, () => expect.objectContaining({ attempts: 1, unsentTries: 1 })));
    for (const delivery of requested) expect(await outbox.beginRequest(delivery)).toBe(true);

    // unsentTries counts the tries since the last request made: that one. It stayed 1, and its backoff a step longer.
    const next = await outbox.claim(at + 20, at + 4_000, 100);
    expect(next).toEqual(Array.from({ length: FINISHED }, () => expect.objectContaining({ attempts: 2, unsentTries: 0 })));
  });

  it('given a claim that lapsed after recording its first request, when another claims the delivery in the same millisecond and stops before its request, then only what the second claim recorded is taken back', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const at = Date.now();
    // Claimed and lapsed at once (another intake's clock may be that far behind): it recorded its
    // first request, which may have reached the receiver.
    const lapsed = await outbox.claim(at, at, 100);
    expect(lapsed).toHaveLength(FINISHED);
    for (const delivery of lapsed) expect(await outbox.beginRequest(delivery)).toBe(true);
    const again = await outbox.claim(at, at + 4_000, 100);
    expect(again).toHaveLength(FINISHED);
    for (const delivery of again) {
      expect(delivery).toMatchObject({ attempts: 2, firstAttemptAt: at, firstRequestAt: at });
      await outbox.settle(delivery, { outcome: 'retry', at, notSent: true, stopped: true }, at);
    }
    expect(await endsOf(subscription.id)).toEqual(eachEnd({ status: 'pending', attempts: 1 }));
    for (const { id } of lapsed) expect(await claimTraces(id)).toEqual([String(at), String(at), null, null]);
  });

  it('given a dispatcher lacking the master key, then brain_webhook_attempts_total counts none of its tries that wait, and each delivery given up unsent at the end of the retry period as dead', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const registry = new Registry();
    const metrics = new WebhookMetrics(registry, redis, keys, outbox);
    const retry = { backoffMs: 1_000, backoffMaxMs: 60_000, retryPeriodMs: 10_000 };
    let now = Date.now();
    // As the intake wires it (WebhookHost).
    const withoutKey = dispatcher({ clock: () => now, retry, onAttempt: (outcome) => metrics.attempt(outcome) }, lackingKeySubscriptions());

    let tries = 0;
    while ((await outbox.list(subscription.id, { status: 'dead', limit: 10 })).items.length < FINISHED) {
      tries += await withoutKey.runOnce();
      now += retry.backoffMs;
    }
    // Several tries each, none a request: only the deaths are counted.
    expect(tries).toBeGreaterThan(2 * FINISHED);
    expect(receiver.arrived).toBe(0);
    expect(await attemptsCounted(registry)).toEqual({ dead: FINISHED });
  });

  it('given a sealed secret that was altered, then its deliveries are dead with why, not retried for ever', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    const [stored] = JSON.parse((await redis.hget(webhookKeys.secrets, subscription.id)) ?? '[]') as { sealed: string }[];
    const altered = Buffer.from(stored.sealed, 'base64url');
    altered[altered.length - 1] ^= 1;
    await redis.hset(webhookKeys.secrets, subscription.id, JSON.stringify([{ ...stored, sealed: altered.toString('base64url') }]));
    await runner().catchUp();
    const outcomes: string[] = [];
    dispatcher({ onAttempt: (outcome) => outcomes.push(outcome) }).start();

    await waitFor(async () => outcomes.length === FINISHED, { timeoutMs: 10_000, what: 'every delivery to be attempted' });
    expect(receiver.received).toHaveLength(0);
    const dead = await outbox.list(subscription.id, { status: 'dead', limit: 10 });
    expect(dead.items.map((delivery) => delivery.lastError)).toEqual(
      Array.from({ length: FINISHED }, () => 'not sent: the signing secret does not open (tampered)'),
    );
  });

  it('given a master key rotation, then rewrapSecrets seals every secret (plain ones too) under the new key, and the old key can go', async () => {
    const sealed = await subscribe([MISSION_FINISHED]);
    const plain = await subscribe([MISSION_FINISHED]);
    await redis.hset(webhookKeys.secrets, plain.subscription.id, JSON.stringify([{ secret: plain.secret, until: null }]));
    const newKey = 'the-new-master-key-of-forty-characters-000';
    const rotated = new WebhookSubscriptions(redis, webhookKeys, MasterKeyRing.fromSecrets(newKey, [TEST_DATA_KEY_SECRET]), SUBSCRIBED_AT);

    expect(await rotated.rewrapSecrets()).toEqual({ rewrapped: 2, current: 0, changed: 0, notConfigured: [] });
    expect(await rotated.rewrapSecrets()).toEqual({ rewrapped: 0, current: 2, changed: 0, notConfigured: [] });
    const onlyNew = new WebhookSubscriptions(redis, webhookKeys, MasterKeyRing.fromSecrets(newKey), SUBSCRIBED_AT);
    expect(await onlyNew.secretsInForce(sealed.subscription.id)).toEqual([sealed.secret]);
    expect(await onlyNew.secretsInForce(plain.subscription.id)).toEqual([plain.secret]);
    expect(JSON.stringify(await redis.hgetall(webhookKeys.secrets))).not.toContain('whsec_');
  });

  it('given a subscription whose secrets are gone when a delivery is sent, then nothing is sent and each delivery is dead with why', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    await redis.hdel(webhookKeys.secrets, subscription.id);
    const outcomes: string[] = [];
    dispatcher({ onAttempt: (outcome) => outcomes.push(outcome) }).start();

    await waitFor(async () => outcomes.length === FINISHED, { timeoutMs: 10_000, what: 'every delivery to be attempted' });
    // Each went out with an empty webhook-signature.
    expect(outcomes).toEqual(Array.from({ length: FINISHED }, () => 'dead'));
    expect(receiver.received).toHaveLength(0);
    const dead = await outbox.list(subscription.id, { status: 'dead', limit: 10 });
    expect(dead.items.map((delivery) => delivery.lastError)).toEqual(
      Array.from({ length: FINISHED }, () => 'not sent: the subscription has no signing secret in force'),
    );
  });

  it('given a stored body that can never open (altered), then its delivery is dead, and the next of its mission is sent', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    let opened = 0;
    dispatcher({
      openBody: async (body) => {
        if (opened++ === 0) throw new GuestDataError(GuestDataErrorCode.Tampered, 'the token of description fails its tag');
        return body;
      },
    }).start();
    // It was claimed again every lapse for ever: never dead, and its mission's queue held up behind it.
    const dead = await waitFor(async () => (await outbox.list(subscription.id, { status: 'dead', limit: 10 })).items[0], {
      timeoutMs: 10_000,
      what: 'the delivery that does not open to be dead',
    });
    // Nothing was sent: no attempt counted (it read 1).
    expect(dead).toMatchObject({ attempts: 0, lastAttemptAt: null, lastError: 'not sent: the stored event does not open (tampered)' });
    await waitFor(async () => receiver.unique().length === FINISHED - 1, { timeoutMs: 20_000, what: 'the other deliveries' });
  });

  it("given a mission's head delivery whose hash is gone (deleted, evicted), then the next of its mission still becomes due and arrives", async () => {
    const { subscription } = await subscribe();
    await runner().catchUp();
    const queue = webhookKeys.missionQueue(subscription.id, KNOWN_MISSIONS.ok);
    const [head, ...behind] = await redis.lrange(queue, 0, -1);
    await redis.del(webhookKeys.delivery(head));
    dispatcher().start();

    // The claim dropped the head from the due ZSET but left it heading its queue: the rest never came.
    await waitFor(async () => (await redis.exists(queue)) === 0, { timeoutMs: 10_000, what: "the mission's queue to drain" });
    const arrived = new Set(receiver.unique().map((webhook) => webhook.id));
    expect(behind.length).toBeGreaterThan(0);
    expect(behind.filter((id) => !arrived.has(id))).toEqual([]);
    expect(arrived.has(head)).toBe(false);
    await waitFor(async () => (await outbox.backlog()) === 0, { timeoutMs: 20_000, what: 'the backlog to drain' });
    expect(await redis.hlen(webhookKeys.queueHeads)).toBe(0);
  });

  it("given an endpoint failing for a while, when a dispatcher stops during an attempt, then the endpoint's disable-after clock goes on", async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    let answered = 0;
    receiver.respond = () => (answered++ === 0 ? 503 : new Promise<number>(() => undefined));
    await runner().catchUp();
    const first = dispatcher({ timeoutMs: 60_000, concurrency: 1 });
    first.start();
    await waitFor(async () => receiver.arrived === 2, { timeoutMs: 10_000, what: 'a failed attempt, then one in flight' });
    const since = await redis.hget(webhookKeys.failingSince, subscription.id);
    expect(since).not.toBeNull();

    await first.stop();
    // The aborted attempt cleared it: with an attempt in flight at every deploy, a dead endpoint was never disabled.
    expect(await redis.hget(webhookKeys.failingSince, subscription.id)).toBe(since);
  });

  it('given a receiver that does not answer, when the dispatcher stops, then it stops at once and the delivery is due again, delivered by the next one', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    receiver.respond = () => new Promise<number>(() => undefined);
    await runner().catchUp();
    const first = dispatcher({ timeoutMs: 60_000, concurrency: 1 });
    first.start();
    await waitFor(async () => receiver.arrived === 1, { timeoutMs: 10_000, what: 'the first attempt to arrive' });

    await first.stop();
    const [aborted] = (await outbox.list(subscription.id, { status: 'pending', limit: 10 })).items.filter((delivery) => delivery.attempts === 1);
    expect(aborted).toMatchObject({ lastError: 'attempt aborted: the dispatcher stopped', lastResponseCode: null });
    expect(Date.parse(aborted.nextAttemptAt ?? '')).toBeLessThanOrEqual(Date.now());
    expect(await redis.hget(webhookKeys.failingSince, subscription.id)).toBeNull();

    receiver.respond = () => 200;
    dispatcher().start();
    await waitFor(async () => (await outbox.get(aborted.id))?.status === 'delivered', { timeoutMs: 20_000, what: 'the aborted delivery after the restart' });
    expect(await outbox.get(aborted.id)).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('given a request cut short by a stopping dispatcher, then brain_webhook_attempts_total counts it under no outcome, while the delivery counts the attempt', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    receiver.respond = () => new Promise<number>(() => undefined);
    await runner().catchUp();
    const registry = new Registry();
    const metrics = new WebhookMetrics(registry, redis, keys, outbox);
    const stopping = dispatcher({ timeoutMs: 60_000, onAttempt: (outcome) => metrics.attempt(outcome) });
    stopping.start();
    await waitFor(async () => receiver.arrived === FINISHED, { timeoutMs: 10_000, what: 'every request to arrive' });

    await stopping.stop();
    // The requests arrived, so the deliveries count them; the receiver failed none, so the metric does not.
    expect(await endsOf(subscription.id)).toEqual(eachEnd({ status: 'pending', attempts: 1, lastError: 'attempt aborted: the dispatcher stopped' }));
    expect(await attemptsCounted(registry)).toEqual({ dead: 0 });
  });

  it('given a URL the target policy refuses once its host resolves, when the dispatcher stops while it resolves, then its deliveries are dead refused with no attempt counted: no request was made', async () => {
    const { subscription } = await subscriptions.create(
      { url: 'http://hooks.example.test:8080/in', eventTypes: [MISSION_FINISHED], description: '' },
      'test-operator',
    );
    await runner().catchUp();
    // The host resolves to a private address, but only once the dispatcher has stopped.
    const outcomes = await stopWhileResolving('', ['10.0.0.7']);

    expect(await endsOf(subscription.id)).toEqual(
      eachEnd({
        status: 'dead',
        attempts: 0,
        lastAttemptAt: null,
        lastError: expect.stringMatching(/^refused: url host hooks\.example\.test resolves to 10\.0\.0\.7/),
      }),
    );
    expect(outcomes).toEqual(Array(FINISHED).fill('dead'));
  });

  it.each([
    [200, 'delivered'],
    [410, 'dead'],
  ])(
    'given a receiver that answered %i and was still writing its body when the dispatcher stopped, then the delivery is %s as answered, not attempted again',
    async (status, outcome) => {
      const { subscription } = await subscribe([MISSION_FINISHED]);
      await runner().catchUp();
      receiver.respond = () => status;
      receiver.holdsBodyOpen = true;
      const stopping = dispatcher({ concurrency: 1 });
      const answered = receiver.answerBegun();
      const round = stopping.runOnce();
      await answered;
      await stopping.stop();
      expect(await round).toBe(1);

      // It was "attempt aborted" and due again at once: a 2xx sent a second time, a 410 retried.
      const tried = (await endsOf(subscription.id)).filter((delivery) => delivery.attempts > 0);
      expect(tried).toEqual([expect.objectContaining({ status: outcome, attempts: 1, lastResponseCode: status, nextAttemptAt: null })]);
      expect(receiver.arrived).toBe(1);
    },
  );

  /** What a claim records of a delivery in its hash that a stop before its request must leave unwritten. */
  const claimTraces = async (deliveryId: string) => redis.hmget(webhookKeys.delivery(deliveryId), 'firstAttemptAt', 'firstRequestAt', 'unsentTries', 'claim');

  it('given deliveries whose secrets are being read, when the dispatcher stops, then no request is made and none is counted or recorded, and after the restart a first request that fails is retried for a whole retry period', async () => {
    const { subscription } = await subscribe([MISSION_FINISHED]);
    await runner().catchUp();
    const retry = { backoffMs: 1_000, backoffMaxMs: 60_000, retryPeriodMs: 3_600_000 };
    const { signing, reading, release } = secretsHeldBack();
    const outcomes: string[] = [];
    const stoppedAt = Date.now();
    const stopping = dispatcher({ clock: () => stoppedAt, retry, onAttempt: (outcome) => outcomes.push(outcome) }, signing);
    const round = stopping.runOnce();
    await reading;
    const stopped = stopping.stop();
    release();
    expect(await round).toBe(FINISHED);
    await stopped;

    expect(receiver.arrived).toBe(0);
    expect(outcomes).toEqual([]);
    // It was "attempt aborted": an attempt, lastAttemptAt and firstRequestAt for a request never made.
    const afterStop = await endsOf(subscription.id);
    expect(afterStop).toEqual(
      eachEnd({
        status: 'pending',
        attempts: 0,
        lastAttemptAt: null,
        lastResponseCode: null,
        lastError: null,
        nextAttemptAt: new Date(stoppedAt).toISOString(),
      }),
    );
    for (const { id } of afterStop) expect(await claimTraces(id)).toEqual([null, null, null, null]);

    // Back just short of a retry period after the stop, the first request answers 503: the period
    // counts from that request, so it is retried (it was dead, the period counted from the stop).
    receiver.respond = () => 503;
    const backAt = stoppedAt + retry.retryPeriodMs - 100;
    expect(await dispatcher({ clock: () => backAt, retry }).runOnce()).toBe(FINISHED);
    expect(await endsOf(subscription.id)).toEqual(eachEnd({ status: 'pending', attempts: 1, lastResponseCode: 503 }));
  });

  it('given a URL whose host resolves only once the dispatcher has stopped, then no request is made and none is counted or recorded: after the restart its first request is its first attempt', async () => {
    const { subscription, secret } = await subscriptions.create(
      { url: receiver.url.replace('127.0.0.1', 'hooks.example.test'), eventTypes: [MISSION_FINISHED], description: '' },
      'test-operator',
    );
    receiver.secrets = [secret];
    await runner().catchUp();
    const outcomes = await stopWhileResolving('127.0.0.1', ['127.0.0.1']);

    expect(receiver.arrived).toBe(0);
    expect(outcomes).toEqual([]);
    const afterStop = await endsOf(subscription.id);
    expect(afterStop).toEqual(eachEnd({ status: 'pending', attempts: 0, lastAttemptAt: null, lastResponseCode: null, lastError: null }));
    for (const { id } of afterStop) expect(await claimTraces(id)).toEqual([null, null, null, null]);

    const restarted = dispatcher({}, subscriptions, new TargetUrlPolicy('127.0.0.1', false, async () => ['127.0.0.1']));
    expect(await restarted.runOnce()).toBe(FINISHED);
    expect(await endsOf(subscription.id)).toEqual(eachEnd({ status: 'delivered', attempts: 1, lastResponseCode: 200 }));
  });

  it("property: whatever the receiver answers, each mission's events are attempted in log order, and each ends delivered or dead", async () => {
    const answers = fc.array(fc.constantFrom(200, 200, 204, 500, 503, 429, 404, 410), { minLength: 1, maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(answers, async (statuses) => {
        // A fresh log and subscription per run; the run's keys go with it.
        const runKeys = new KeyLayout(testKeyPrefix('webhooks-order'));
        const runWebhookKeys = new WebhookKeys(runKeys);
        const runSubscriptions = new WebhookSubscriptions(redis, runWebhookKeys, RING, SUBSCRIBED_AT);
        const runOutbox = new WebhookOutbox(redis, runWebhookKeys, RETENTION);
        try {
          await buildKnownLog(redis, runKeys);
          const { subscription, secret } = await runSubscriptions.create(
            { url: receiver.url, eventTypes: [...MISSION_EVENT_TYPES], description: '' },
            'test-operator',
          );
          receiver.secrets = [secret];
          receiver.received.length = 0;
          await new ProjectionRunner(redis, runKeys, new WebhookOutboxProjection(runWebhookKeys, runSubscriptions)).catchUp();
          let next = 0;
          receiver.respond = () => statuses[next++ % statuses.length];
          let now = Date.now();
          const sender = new WebhookSender(new TargetUrlPolicy('127.0.0.1', true), 2_000);
          const stepped = new WebhookDispatcher(runOutbox, runSubscriptions, sender, {
            retry: { backoffMs: 100, backoffMaxMs: 400, retryPeriodMs: 3_000 },
            disableAfterMs: Number.MAX_SAFE_INTEGER,
            timeoutMs: 2_000,
            concurrency: 64,
            clock: () => now,
          });
          // A fake clock: when nothing is due, time jumps towards the next retry; a receiver that
          // keeps failing makes deliveries dead after 3 s of it.
          while ((await runOutbox.backlog()) > 0) if ((await stepped.runOnce()) === 0) now += 500;

          const versions = new Map<string, number[]>();
          for (const webhook of receiver.received) {
            const data = webhook.message.data as { missionId: string; version: number };
            versions.set(data.missionId, [...(versions.get(data.missionId) ?? []), data.version]);
          }
          for (const seen of versions.values()) expect(seen).toEqual([...seen].sort((a, b) => a - b));
          expect(receiver.received.every((webhook) => webhook.verifiedBy.length === 1)).toBe(true);
          const settled = (await runOutbox.list(subscription.id, { limit: 200 })).items;
          expect(settled).toHaveLength(KNOWN_EVENT_COUNT);
          expect(settled.every((delivery) => delivery.status === 'delivered' || delivery.status === 'dead')).toBe(true);
        } finally {
          await deleteKeysByPrefix(redis, runKeys.prefix);
        }
      }),
      { numRuns: 12, examples: [[[500]], [[404]]] },
    );
  });
});
