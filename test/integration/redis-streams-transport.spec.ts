import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import Redis, { ReplyError } from 'ioredis';
import { findFreePort, LOCAL_REDIS_HOST, resolveRedis, ResolvedRedis } from '@app/redis';
import {
  DATA_NOT_UTF8,
  encodeMessage,
  HandBackError,
  MAX_MESSAGE_DEPTH,
  PermanentMessageError,
  RedisStreamsContext,
  RedisStreamsServer,
  RedisStreamsServerOptions,
  RefusedData,
  settleOnLastDelivery,
  StreamEvents,
  TAKES_REFUSED_DATA,
} from '@app/redis-streams';
import { deleteKeysByPrefix, PrivateRedis, startPrivateRedis, streamFields, testKeyPrefix, waitFor, testRedis } from '@app/testing';

describe('Redis Streams transport (real Redis)', () => {
  const prefix = testKeyPrefix('transport');
  const stream = `${prefix}{t}:stream`;
  const poison = `${prefix}{t}:poison`;
  const admin = testRedis();
  const servers: RedisStreamsServer[] = [];

  function server(overrides: Partial<RedisStreamsServerOptions> = {}): RedisStreamsServer {
    const instance = new RedisStreamsServer({
      connect: () => testRedis({ maxRetriesPerRequest: null }),
      streams: [{ stream, poisonStream: poison }],
      group: 'workers',
      consumer: `consumer-${servers.length + 1}`,
      batchSize: 50,
      blockMs: 100,
      claimIdleMs: 200,
      maxDeliveries: 3,
      ...overrides,
    });
    servers.push(instance);
    return instance;
  }

  const listen = (instance: RedisStreamsServer) =>
    new Promise<void>((resolve, reject) => instance.listen((error?: unknown) => (error ? reject(error) : resolve())));
  const pending = async () => ((await admin.xpending(stream, 'workers')) as [number])[0];
  const consumers = async () => ((await admin.xinfo('CONSUMERS', stream, 'workers')) as string[][]).map((flat) => flat[1]).sort();
  /** The group's heartbeats (consumerHeartbeatsKey), spelled out as an operator would look for it. */
  const heartbeats = `${stream}:heartbeats:workers`;
  const recorder = () => {
    const seen: Record<string, number> = { poisoned: 0, reclaimed: 0, consumersRemoved: 0 };
    const events: StreamEvents = {
      poisoned: (_stream, count) => void (seen.poisoned += count),
      reclaimed: (_stream, count) => void (seen.reclaimed += count),
      consumersRemoved: (_stream, count) => void (seen.consumersRemoved += count),
    };
    return { seen, events };
  };
  /** Connections for server(), whose writer calls `afterClaim` after each XAUTOCLAIM of a reclaim round, with when the round began. */
  const observingClaims =
    (afterClaim: (began: number) => Promise<void> | void): RedisStreamsServerOptions['connect'] =>
    (purpose) => {
      const connection = testRedis({ maxRetriesPerRequest: null });
      if (purpose !== 'writer') return connection;
      const xautoclaim = connection.xautoclaim.bind(connection) as (...args: unknown[]) => Promise<unknown>;
      Object.assign(connection, {
        xautoclaim: async (...args: unknown[]) => {
          const began = Date.now();
          const claimed = await xautoclaim(...args);
          await afterClaim(began);
          return claimed;
        },
      });
      return connection;
    };
  const poisonEntries = async () => (await admin.xrange(poison, '-', '+')).map(([, fields]) => streamFields(fields));
  /** The one message that was poisoned, once nothing is pending any more. */
  const onePoisoned = async () => {
    const [entry] = await waitFor(
      async () => {
        const entries = await poisonEntries();
        return entries.length === 1 && (await pending()) === 0 ? entries : null;
      },
      { timeoutMs: 10_000, what: 'message poisoned' },
    );
    return entry;
  };

  /** Sends as the services do (MissionClient, the append script's effects): an XADD in the wire format of stream-message.ts. */
  const emit = (pattern: string, data: unknown) => admin.xadd(stream, '*', ...encodeMessage(pattern, data));

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await deleteKeysByPrefix(admin, prefix);
  });

  afterAll(async () => {
    await admin.quit();
  });

  it('given a handler that succeeds, when events are emitted, then each is handled once and acked', async () => {
    const seen: number[] = [];
    const s = server();
    s.addHandler('work.done', async (data: { n: number }) => void seen.push(data.n), true);
    await listen(s);
    for (let n = 0; n < 100; n++) await emit('work.done', { n });
    await waitFor(async () => seen.length === 100 && (await pending()) === 0, { timeoutMs: 10_000, what: '100 handled and acked' });
    expect([...seen].sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
  });

  it('given a handler that throws twice, then the message stays pending, is reclaimed and succeeds on the third delivery', async () => {
    const deliveries: number[] = [];
    const s = server();
    s.addHandler(
      'flaky',
      async (_data: unknown, ctx: { getDeliveries(): number }) => {
        deliveries.push(ctx.getDeliveries());
        if (deliveries.length < 3) throw new Error('transient');
      },
      true,
    );
    await listen(s);
    await emit('flaky', { x: 1 });
    await waitFor(async () => deliveries.length === 3 && (await pending()) === 0, { timeoutMs: 10_000, what: 'third delivery acked' });
    expect(deliveries).toEqual([1, 2, 3]);
    expect(await poisonEntries()).toEqual([]);
  });

  it('given a handler that always throws, then after maxDeliveries the message moves to the poison stream with its error', async () => {
    let calls = 0;
    const s = server();
    s.addHandler(
      'doomed',
      async () => {
        calls += 1;
        throw new Error('database on fire');
      },
      true,
    );
    await listen(s);
    await emit('doomed', { id: 'x' });
    const entry = await onePoisoned();
    expect(calls).toBe(3);
    expect(entry.reason).toBe('Error: database on fire');
    expect(entry.pattern).toBe('doomed');
    expect(JSON.parse(entry.data)).toEqual({ id: 'x' });
    expect(entry.deliveries).toBe('3');
  });

  it('given a handler that hands its message back on its last delivery, then it is not poisoned and the next delivery handles it', async () => {
    const deliveries: number[] = [];
    const s = server();
    s.addHandler(
      'handed.back',
      async (_data: unknown, ctx: RedisStreamsContext) => {
        deliveries.push(ctx.getDeliveries());
        if (ctx.getDeliveries() <= 3) throw new HandBackError('shutting down');
      },
      true,
    );
    await listen(s);
    await emit('handed.back', {});
    await waitFor(async () => deliveries.length === 4 && (await pending()) === 0, { timeoutMs: 10_000, what: 'handled on the fourth delivery' });
    expect(deliveries).toEqual([1, 2, 3, 4]);
    expect(await poisonEntries()).toEqual([]);
  });

  it('given a handler that fails while Redis refuses (out of memory) past maxDeliveries, then the message is neither settled nor poisoned, and is handled once memory frees', async () => {
    const deliveries: number[] = [];
    const settled: string[] = [];
    const s = server();
    s.addHandler(
      'during.oom',
      (_data: unknown, ctx: RedisStreamsContext) =>
        settleOnLastDelivery(
          ctx,
          async () => {
            deliveries.push(ctx.getDeliveries());
            // The error ioredis gives when a script's write meets maxmemory (noeviction).
            if (deliveries.length <= 4) throw new ReplyError("OOM command not allowed when used memory > 'maxmemory'. script: 152bbe2, on @user_script:361.");
          },
          async (reason) => void settled.push(reason),
        ),
      true,
    );
    await listen(s);
    await emit('during.oom', {});
    await waitFor(async () => deliveries.length === 5 && (await pending()) === 0, { timeoutMs: 10_000, what: 'handled on the fifth delivery' });
    expect(deliveries).toEqual([1, 2, 3, 4, 5]);
    expect(settled).toEqual([]);
    expect(await poisonEntries()).toEqual([]);
  });

  it('given a handler that always throws, when it is settled on its last delivery, then settle is told why and the message is acked, not poisoned', async () => {
    const settled: { id: string; reason: string }[] = [];
    let calls = 0;
    const s = server();
    s.addHandler(
      'doomed',
      (data: { id: string }, ctx: RedisStreamsContext) =>
        settleOnLastDelivery(
          ctx,
          async () => {
            calls += 1;
            throw new Error('database on fire');
          },
          async (reason) => void settled.push({ id: data.id, reason }),
        ),
      true,
    );
    await listen(s);
    await emit('doomed', { id: 'x' });
    await waitFor(async () => settled.length === 1 && (await pending()) === 0, { timeoutMs: 10_000, what: 'settled and acked' });
    expect(calls).toBe(3);
    expect(settled).toEqual([{ id: 'x', reason: 'gave up after 3 deliveries: Error: database on fire' }]);
    expect(await poisonEntries()).toEqual([]);
  });

  it("given a handler that always throws and a settle that fails too, then the message moves to the poison stream with the handler's error", async () => {
    let settles = 0;
    const s = server();
    s.addHandler(
      'doomed',
      (_data: unknown, ctx: RedisStreamsContext) =>
        settleOnLastDelivery(
          ctx,
          async () => {
            throw new Error('database on fire');
          },
          async () => {
            settles += 1;
            throw new Error('still on fire');
          },
        ),
      true,
    );
    await listen(s);
    await emit('doomed', { id: 'x' });
    const entry = await onePoisoned();
    expect(settles).toBe(1);
    expect(entry.reason).toBe('Error: database on fire');
  });

  it('given garbage and unknown patterns, then they are poisoned at once and the consumer keeps working', async () => {
    const seen: string[] = [];
    const s = server();
    s.addHandler('ok', async (data: { v: string }) => void seen.push(data.v), true);
    await listen(s);
    await admin.xadd(stream, '*', 'garbage', 'yes');
    await admin.xadd(stream, '*', 'pattern', 'ok', 'data', '{not json');
    await admin.xadd(stream, '*', 'pattern', 'nobody.listens', 'data', '{}');
    await emit('ok', { v: 'after' });
    const entries = await waitFor(
      async () => {
        const found = await poisonEntries();
        return found.length === 3 && seen.length === 1 ? found : null;
      },
      { timeoutMs: 10_000, what: 'three poisoned, one handled' },
    );
    expect(entries.map((e) => e.reason)).toEqual([
      'MalformedMessageError: message has no pattern field',
      'MalformedMessageError: data is not JSON (9 bytes)',
      'PermanentMessageError: no handler for pattern "nobody.listens"',
    ]);
    expect(entries.every((e) => e.deliveries === '1')).toBe(true);
    expect(seen).toEqual(['after']);
  });

  it('given data nested deeper than MAX_MESSAGE_DEPTH, then a handler that takes refused data is told why, unparsed; any other is handed it and poisoned as any failure is', async () => {
    const deep = (levels: number) => '{"x":'.repeat(levels) + '{}' + '}'.repeat(levels);
    const handled: unknown[] = [];
    const refusals: string[] = [];
    const s = server();
    // As a handler that measures its data does (the intake's submissions): 5,000 levels overflowed JSON.stringify.
    s.addHandler('deep', async (data: unknown) => void handled.push(JSON.stringify(data).length), true);
    s.addHandler('deep.refusable', async (data: unknown) => void refusals.push(data instanceof RefusedData ? data.reason : 'parsed'), true, TAKES_REFUSED_DATA);
    await listen(s);
    await admin.xadd(stream, '*', 'pattern', 'deep', 'data', deep(5_000));
    await admin.xadd(stream, '*', 'pattern', 'deep.refusable', 'data', deep(5_000));
    await admin.xadd(stream, '*', 'pattern', 'deep.refusable', 'data', deep(MAX_MESSAGE_DEPTH - 1));
    // Between the services, no depth scan on every hop: the RangeError is a failure like any other.
    const entry = await onePoisoned();
    expect(entry.reason).toMatch(/^RangeError: Maximum call stack size exceeded/);
    expect(entry.deliveries).toBe('3');
    expect(entry.pattern).toBe('deep');
    await waitFor(async () => refusals.length === 2, { timeoutMs: 10_000, what: 'both refusable messages handled' });
    expect(refusals).toEqual([`data nests deeper than ${MAX_MESSAGE_DEPTH} levels`, 'parsed']);
    expect(handled).toEqual([]);
  });

  it('given data written as bytes that are not UTF-8, then a handler that takes refused data is told so; U+FFFD written as UTF-8 is data like any other', async () => {
    const told: string[] = [];
    const s = server();
    s.addHandler(
      'refusable',
      async (data: unknown) => void told.push(data instanceof RefusedData ? data.reason : JSON.stringify(data)),
      true,
      TAKES_REFUSED_DATA,
    );
    await listen(s);
    // Invalid bytes, an overlong "/", a surrogate encoded as UTF-8: each was handed on as U+FFFD, as if the sender wrote it.
    for (const bytes of ['ff fe', 'c0 af', 'ed a0 80']) {
      const data = Buffer.concat([Buffer.from('{"t":"bad'), Buffer.from(bytes.replace(/ /g, ''), 'hex'), Buffer.from('utf8"}')]);
      await admin.xadd(stream, '*', 'pattern', 'refusable', 'data', data);
    }
    await admin.xadd(stream, '*', 'pattern', 'refusable', 'data', JSON.stringify({ t: 'sent as \uFFFD' }));
    await waitFor(async () => told.length === 4, { timeoutMs: 10_000, what: 'four messages handled' });
    expect(told.sort()).toEqual([DATA_NOT_UTF8, DATA_NOT_UTF8, DATA_NOT_UTF8, JSON.stringify({ t: 'sent as \uFFFD' })].sort());
  });

  it('given poisonFields that throws, when a message is poisoned, then it is poisoned with its pattern and why, acked, and the consumer keeps working', async () => {
    const seen: string[] = [];
    const s = server({
      poisonFields: () => {
        throw new RangeError('Maximum call stack size exceeded');
      },
    });
    s.addHandler('ok', async (data: { v: string }) => void seen.push(data.v), true);
    await listen(s);
    await admin.xadd(stream, '*', 'pattern', 'nobody.listens', 'data', '{"guest":"Anna"}');
    const entry = await onePoisoned();
    // poisonFields threw inside process()'s catch: an unhandled rejection that stopped the process, and the message stayed pending.
    expect(entry).toEqual({
      source: stream,
      messageId: expect.any(String),
      reason:
        'PermanentMessageError: no handler for pattern "nobody.listens"; its other fields are not kept, as keeping them failed: RangeError: Maximum call stack size exceeded',
      deliveries: '1',
      failedAt: expect.any(String),
      pattern: 'nobody.listens',
    });
    expect(await admin.xlen(stream)).toBe(0);
    await emit('ok', { v: 'after' });
    await waitFor(async () => seen.length === 1, { timeoutMs: 10_000, what: 'the next message handled' });
  });

  it('given poisonMaxLen, when more messages are poisoned than it keeps, then the poison stream holds the newest that many', async () => {
    const s = server({ poisonMaxLen: 2 });
    s.addHandler('ok', async () => undefined, true);
    await listen(s);
    for (const n of [1, 2, 3, 4]) await admin.xadd(stream, '*', 'pattern', `nobody.listens.${n}`, 'data', '{}');
    await waitFor(async () => (await pending()) === 0 && (await admin.xlen(stream)) === 0, { timeoutMs: 10_000, what: 'all four poisoned' });
    // It used to keep every one: a sender that kept failing grew the stream without bound.
    expect((await poisonEntries()).map((entry) => entry.pattern)).toEqual(['nobody.listens.3', 'nobody.listens.4']);
  });

  it('given a consumer that died holding messages, then another instance reclaims and handles them, and then removes the dead consumer from the group', async () => {
    let releaseDead: () => void = () => undefined;
    const dead = server({ consumer: 'dead' });
    dead.addHandler('job', () => new Promise<void>((resolve) => (releaseDead = resolve)), true);
    await listen(dead);
    await emit('job', { n: 1 });
    await waitFor(async () => (await pending()) === 1 && dead.busy === 1, { timeoutMs: 5_000, what: 'dead consumer holds the message' });
    // The "dead" instance stops reading and touching its message, like a killed process would.
    const liveness = dead as unknown as { running: boolean; reclaimTimer: NodeJS.Timeout };
    liveness.running = false;
    clearInterval(liveness.reclaimTimer);
    const handled: number[] = [];
    const { seen, events } = recorder();
    const alive = server({ consumer: 'alive', events, consumerSweepMs: 100 });
    alive.addHandler('job', async (data: { n: number }) => void handled.push(data.n), true);
    await listen(alive);
    await waitFor(async () => handled.length === 1 && (await pending()) === 0, { timeoutMs: 10_000, what: 'reclaimed and acked' });
    expect(handled).toEqual([1]);
    // Holding nothing now and reading no more, the dead consumer goes on a later sweep. The group
    // changes before the sweep's reply reaches the server, and the count comes with that reply.
    await waitFor(async () => (await consumers()).join() === 'alive' && seen.consumersRemoved === 1, {
      timeoutMs: 10_000,
      what: 'only the live consumer left in the group, and its removal counted',
    });
    expect(seen).toEqual({ poisoned: 0, reclaimed: 1, consumersRemoved: 1 });
    liveness.running = true;
    releaseDead();
  });

  it("given a live consumer that receives nothing for longer than a stopped one's time, then the sweeps keep it by its heartbeat and remove the stopped ones", async () => {
    // A consumer counts as stopped after max(2 × claimIdleMs, 10 × blockMs) = 800 ms; sweeps (and
    // heartbeats) every 100 ms. A live instance's heartbeat must never be that late, even on a
    // machine busy enough to hold its event loop for a few hundred ms (a 200 ms bound was not).
    const stoppedAfterMs = 800;
    const { seen, events } = recorder();
    const timing = { claimIdleMs: 400, blockMs: 40, consumerSweepMs: 100 };
    const live = server({ consumer: 'live', events, ...timing });
    live.addHandler('job', async () => undefined, true);
    await listen(live);
    await emit('job', {});
    await waitFor(async () => (await consumers()).includes('live') && (await pending()) === 0, { timeoutMs: 5_000, what: 'the live consumer done' });
    // An instance that never gets a message is in the group too.
    await listen(server({ consumer: 'quiet', events, ...timing }));
    // Created after the live one, so idle no longer than it: one of an older build (no heartbeat),
    // and one of a stopped instance of this build (its last heartbeat long ago).
    await admin.xgroup('CREATECONSUMER', stream, 'workers', 'old-build');
    await admin.xgroup('CREATECONSUMER', stream, 'workers', 'killed');
    await admin.hset(heartbeats, 'killed', 1);

    // The one of the older build goes once its idle time passes the stopped time; the live one's, older, passed it before.
    await waitFor(async () => !/old-build|killed/.test((await consumers()).join()) && seen.consumersRemoved >= 2, {
      timeoutMs: 10_000,
      what: 'the stopped consumers removed',
    });
    // Then the sweeps go on for twice the stopped time, which the live consumer's heartbeat tells (or until it is gone).
    const [seconds, micros] = (await admin.time()).map(Number);
    const from = seconds * 1000 + Math.floor(micros / 1000);
    await waitFor(async () => Number(await admin.hget(heartbeats, 'live')) >= from + 2 * stoppedAfterMs || !(await consumers()).includes('live'), {
      timeoutMs: 10_000,
      what: 'heartbeats of the live consumer past twice the stopped time',
    });

    expect(seen.consumersRemoved).toBe(2);
    expect(await consumers()).toEqual(['live', 'quiet']);
    // Before Redis 7.2 (docker-compose.yml pins 7.0) its blocking reads that got nothing left XINFO's idle growing all along.
    const version = /redis_version:(\d+)\.(\d+)/.exec(await admin.info('server'));
    if (version && Number(version[1]) * 100 + Number(version[2]) < 702) {
      const rows = (await admin.xinfo('CONSUMERS', stream, 'workers')) as (string | number)[][];
      const row = rows.find((flat) => flat[1] === 'live') ?? [];
      expect(Number(row[row.indexOf('idle') + 1])).toBeGreaterThanOrEqual(2 * stoppedAfterMs);
    }
    expect((await admin.hkeys(heartbeats)).sort()).toEqual(['live', 'quiet']);
    // What brain_stream_consumers reads: one per running instance.
    const [group] = (await admin.xinfo('GROUPS', stream)) as unknown[][];
    expect(group[group.indexOf('consumers') + 1]).toBe(2);
  });

  it('given reclaimed messages around more of its own pending ones than one XPENDING lists, then each keeps its delivery count and a failed one is retried, not poisoned', async () => {
    const step = async (n: number) => (await admin.xadd(stream, '*', 'pattern', 'step', 'data', JSON.stringify({ n }))) as string;
    await admin.xgroup('CREATE', stream, 'workers', '0', 'MKSTREAM');
    const first = await step(0);
    const between: string[] = [];
    for (let n = 1; n <= 10; n++) between.push(await step(n));
    const last = await step(11);
    await admin.xreadgroup('GROUP', 'workers', 'dead', 'STREAMS', stream, '>');
    // A dead consumer holds the first and the last, idle long enough to be reclaimed at the first round.
    await admin.xclaim(stream, 'workers', 'dead', 0, first, last, 'IDLE', 60_000, 'JUSTID');
    // The reclaiming consumer holds the ten between (handed back, say): more than the 2 * 4 rows its XPENDING over [first, last] lists.
    await admin.xclaim(stream, 'workers', 'reclaimer', 0, ...between, 'JUSTID');
    const deliveries = new Map<number, number[]>();
    const { seen, events } = recorder();
    const s = server({ consumer: 'reclaimer', batchSize: 2, claimIdleMs: 2_000, events });
    s.addHandler(
      'step',
      async (data: { n: number }, ctx: RedisStreamsContext) => {
        const mine = [...(deliveries.get(data.n) ?? []), ctx.getDeliveries()];
        deliveries.set(data.n, mine);
        if (data.n === 11 && mine.length === 1) throw new Error('transient');
      },
      true,
    );
    await listen(s);
    await waitFor(async () => deliveries.get(11)?.length === 2 || seen.poisoned > 0, { timeoutMs: 15_000, what: 'the last message retried or poisoned' });
    // It used to be left out of that reply and taken for its last delivery: its one failure poisoned it.
    expect(deliveries.get(11)).toEqual([2, 3]);
    expect(seen.poisoned).toBe(0);
    await waitFor(async () => (await pending()) === 0, { timeoutMs: 15_000, what: 'all twelve handled and acked' });
    expect(deliveries.get(0)).toEqual([2]);
    expect(await poisonEntries()).toEqual([]);
  });

  // It was taken for a message on its last delivery and handled a second time.
  it('given a reclaimed message its slow previous owner acks right after the claim, then it is not handled again', async () => {
    const step = async (n: number) => (await admin.xadd(stream, '*', 'pattern', 'step', 'data', JSON.stringify({ n }))) as string;
    await admin.xgroup('CREATE', stream, 'workers', '0', 'MKSTREAM');
    const done = await step(0);
    const open = await step(1);
    await admin.xreadgroup('GROUP', 'workers', 'slow', 'STREAMS', stream, '>');
    await admin.xclaim(stream, 'workers', 'slow', 0, done, open, 'IDLE', 60_000, 'JUSTID');
    const handled: number[] = [];
    const s = server({
      consumer: 'reclaimer',
      // The slow owner finishes the first message between this claim and the delivery counts.
      connect: observingClaims(async () => void (await admin.xack(stream, 'workers', done))),
    });
    s.addHandler('step', async (data: { n: number }) => void handled.push(data.n), true);
    await listen(s);

    await waitFor(async () => handled.includes(1), { timeoutMs: 10_000, what: 'the other reclaimed message handled' });
    expect(handled).toEqual([1]);
  });

  it('given an instance that closes holding nothing, then its consumer leaves the group; poison moves are reported', async () => {
    const { seen, events } = recorder();
    const s = server({ consumer: 'leaving', events });
    s.addHandler('ok', async () => undefined, true);
    await listen(s);
    await emit('ok', {});
    await emit('unknown.pattern', {});
    await waitFor(async () => (await pending()) === 0 && seen.poisoned === 1, { timeoutMs: 5_000, what: 'both messages done' });
    expect(await consumers()).toEqual(['leaving']);

    await s.close();
    expect(await consumers()).toEqual([]);
    expect(await admin.exists(heartbeats)).toBe(0);
  });

  it('given a slow handler on a live consumer, then its message is not reclaimed while it runs', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const s = server({ consumer: 'slow' });
    s.addHandler(
      'slow',
      () => {
        calls += 1;
        return new Promise<void>((resolve) => (release = resolve));
      },
      true,
    );
    // The rounds of the other consumer that began once the message could have been idle for claimIdleMs (200).
    let idleEnoughFrom = Number.POSITIVE_INFINITY;
    let roundsSinceIdleEnough = 0;
    const other = server({
      consumer: 'other',
      connect: observingClaims((began) => {
        if (began >= idleEnoughFrom) roundsSinceIdleEnough += 1;
      }),
    });
    other.addHandler('slow', async () => void (calls += 1), true);
    await listen(s);
    await emit('slow', {});
    await waitFor(async () => s.busy === 1, { timeoutMs: 5_000, what: 'slow handler running' });
    idleEnoughFrom = Date.now() + 200;
    await listen(other);
    // Each of these rounds would have taken the message, had its consumer not kept touching it.
    await waitFor(async () => roundsSinceIdleEnough >= 3, { timeoutMs: 5_000, what: 'three reclaim rounds of the other consumer' });
    const rows = (await admin.xpending(stream, 'workers', '-', '+', 10)) as [string, string, number, number][];
    expect(rows.map(([, consumer, , deliveries]) => [consumer, deliveries])).toEqual([['slow', 1]]);
    expect(calls).toBe(1);
    release();
    await waitFor(async () => (await pending()) === 0, { timeoutMs: 5_000, what: 'acked' });
    expect(calls).toBe(1);
  });

  it('given the consumer group was deleted (a Redis restart), then the server recreates it and goes on', async () => {
    const seen: number[] = [];
    const s = server();
    s.addHandler('after.restart', async (data: { n: number }) => void seen.push(data.n), true);
    await listen(s);
    await admin.xgroup('DESTROY', stream, 'workers');
    await emit('after.restart', { n: 7 });
    await waitFor(async () => seen.includes(7), { timeoutMs: 10_000, what: 'handled after NOGROUP' });
  });

  it('given handlers in flight, when the server closes, then it waits for them and acks their messages', async () => {
    let release: () => void = () => undefined;
    const s = server();
    s.addHandler('long', () => new Promise<void>((resolve) => (release = resolve)), true);
    await listen(s);
    await emit('long', {});
    await waitFor(async () => s.busy === 1, { timeoutMs: 5_000, what: 'handler running' });
    const closed = s.close();
    release();
    await closed;
    servers.splice(servers.indexOf(s), 1);
    expect(await pending()).toBe(0);
  });

  it('given a handler in flight longer than claimIdleMs when the server closes, then its message stays touched, and no other instance takes it up', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const s = server({ consumer: 'draining' });
    s.addHandler(
      'judge',
      () => {
        calls += 1;
        return new Promise<void>((resolve) => (release = resolve));
      },
      true,
    );
    const other = server({ consumer: 'other' });
    other.addHandler('judge', async () => void (calls += 1), true);
    await listen(s);
    await listen(other);
    await emit('judge', {});
    await waitFor(async () => s.busy === 1, { timeoutMs: 5_000, what: 'handler running' });
    const closed = s.close();

    // Its idle time falls back three times while the drain lasts, each time with the message still its own.
    let lastIdle = 0;
    let touches = 0;
    await waitFor(
      async () => {
        const [row] = (await admin.xpending(stream, 'workers', '-', '+', 1)) as [string, string, number, number][];
        if (!row) throw new Error('the message was acked during the drain: another instance took it up');
        const [, owner, idle] = row;
        // It stopped touching it at close: after claimIdleMs the other instance took it up and judged it again.
        if (owner !== 'draining') throw new Error(`the message went to ${owner} during the drain`);
        if (idle < lastIdle) touches += 1;
        lastIdle = idle;
        return touches >= 3;
      },
      { timeoutMs: 5_000, intervalMs: 20, what: 'the draining message touched three times' },
    );
    release();
    await closed;
    servers.splice(servers.indexOf(s), 1);
    expect(calls).toBe(1);
    expect(await pending()).toBe(0);
  });
});

/** Out of memory is caused with CONFIG SET maxmemory, so on a private redis-server, never the shared one. */
describe('Redis Streams transport (a private Redis out of memory)', () => {
  const stream = 'oom{t}:stream';
  const poison = 'oom{t}:poison';
  let dataDir: string;
  let redis: ResolvedRedis;
  let admin: Redis;
  let instance: RedisStreamsServer;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'transport-oom-spec-'));
    redis = await resolveRedis({ dataDir, log: () => undefined, env: {}, preferLocal: false });
    admin = new Redis(redis.url);
  });

  afterAll(async () => {
    await instance?.close();
    await admin.quit();
    await redis.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('given a poison move Redis refuses, then "moved to" is not logged; it is once the move succeeds, after memory frees', async () => {
    const warnings: string[] = [];
    const errors: string[] = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
    instance = new RedisStreamsServer({
      connect: () => new Redis(redis.url, { maxRetriesPerRequest: null }),
      streams: [{ stream, poisonStream: poison }],
      group: 'workers',
      consumer: 'consumer-1',
      batchSize: 50,
      blockMs: 100,
      claimIdleMs: 200,
      maxDeliveries: 3,
    });
    let entered = false;
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    instance.addHandler(
      'hopeless',
      async () => {
        entered = true;
        await gate;
        throw new PermanentMessageError('hopeless');
      },
      true,
    );
    await new Promise<void>((resolve, reject) => instance.listen((error?: unknown) => (error ? reject(error) : resolve())));
    await admin.xadd(stream, '*', ...encodeMessage('hopeless', {}));
    await waitFor(async () => entered, { timeoutMs: 5_000, what: 'the handler' });
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    release();

    await waitFor(async () => errors.some((line) => line.includes('acking 1 messages')), {
      timeoutMs: 10_000,
      what: 'the refused move',
    });
    expect(warnings.filter((line) => line.includes('moved to'))).toEqual([]);

    await admin.config('SET', 'maxmemory', '0');
    await waitFor(async () => (await admin.xlen(poison)) === 1, { timeoutMs: 10_000, what: 'the move once memory freed' });
    await waitFor(async () => warnings.some((line) => line.includes('moved to')), { timeoutMs: 5_000, what: 'its log line' });
    expect(warnings.filter((line) => line.includes('moved to'))).toHaveLength(1);
    jest.restoreAllMocks();
  });
});

/** Redis is stopped and started again, so on a private redis-server, never the shared one. */
describe('Redis Streams transport (a private Redis stopped, then restarted; or turned replica, then master again)', () => {
  let redis: PrivateRedis;
  let instance: RedisStreamsServer | undefined;
  /** What the transport logged, at any level. */
  let lines: string[];
  /** Commands refused while Redis is down, by name: how many times each loop retried. */
  let refused: { xreadgroup: number; xautoclaim: number; xclaim: number };
  /** Whether the test stopped Redis and has not started it again (a failed one leaves it so). */
  let down: boolean;
  /** Lets a gated handler finish, so that a failed test's close() does not wait for it. */
  let release: () => void;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });

  beforeEach(() => {
    lines = [];
    refused = { xreadgroup: 0, xautoclaim: 0, xclaim: 0 };
    down = false;
    release = () => undefined;
    const capture = (message: unknown) => void lines.push(String(message));
    jest.spyOn(Logger.prototype, 'log').mockImplementation(capture);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(capture);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(capture);
  });

  afterEach(async () => {
    release();
    if (down) await upAgain();
    await instance?.close();
    instance = undefined;
    jest.restoreAllMocks();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  /** A listening server on `stream` of the private Redis, whose connections count the commands refused. */
  async function listening(stream: string, handlers: Record<string, (data: unknown) => Promise<void>>, blockMs = 100): Promise<RedisStreamsServer> {
    const server = new RedisStreamsServer({
      connect: () => {
        // Refused at the first reconnect that fails, not after 20 as the services' are: an outage of seconds shows many retries.
        const connection = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
        connection.on('error', () => undefined);
        for (const name of Object.keys(refused) as (keyof typeof refused)[]) {
          const command = connection[name].bind(connection) as (...args: unknown[]) => Promise<unknown>;
          Object.assign(connection, {
            [name]: (...args: unknown[]) =>
              command(...args).catch((error: unknown) => {
                refused[name] += 1;
                throw error;
              }),
          });
        }
        return connection;
      },
      streams: [{ stream, poisonStream: `${stream}:poison` }],
      group: 'workers',
      consumer: 'consumer-1',
      batchSize: 10,
      blockMs,
      claimIdleMs: 200,
      maxDeliveries: 3,
    });
    for (const [pattern, handler] of Object.entries(handlers)) server.addHandler(pattern, handler, true);
    instance = server;
    await new Promise<void>((resolve, reject) => server.listen((error?: unknown) => (error ? reject(error) : resolve())));
    return server;
  }

  const outage = async () => {
    down = true;
    await redis.halt();
  };
  const upAgain = async () => {
    await redis.restart();
    down = false;
  };
  const failing = (what: string) => lines.filter((line) => line.startsWith(`${what} failed: `));
  const recovered = (what: string) => lines.filter((line) => line.startsWith(`${what} works again, after `));
  const failures = (line: string) => Number(/^.* works again, after (\d+) failures in \d+ ms$/.exec(line)?.[1]);
  const send = async (stream: string, pattern: string) => {
    const admin = new Redis(redis.url);
    await admin.xadd(stream, '*', ...encodeMessage(pattern, {}));
    await admin.quit();
  };

  it('given Redis down for several retries of the read and reclaim loops, then each logs one line when it starts failing and one when it works again', async () => {
    const stream = 'read{t}:stream';
    let handled = 0;
    await listening(stream, { 'after.outage': async () => void (handled += 1) });

    await outage();
    // The read loop backs off 200, 400, 800, 1,600 ms: five reads refused take about 3 s.
    await waitFor(async () => refused.xreadgroup >= 5 && refused.xautoclaim >= 5, { timeoutMs: 15_000, what: 'five refused reads and reclaims' });
    // The blocking read cut off and the reads refused after it may fail otherwise: two lines at most, not one a retry.
    for (const what of [`reading ${stream}`, `reclaiming on ${stream}`]) {
      expect(failing(what).length).toBeGreaterThanOrEqual(1);
      expect(failing(what).length).toBeLessThanOrEqual(2);
    }

    await upAgain();
    await waitFor(async () => recovered(`reading ${stream}`).length === 1 && recovered(`reclaiming on ${stream}`).length === 1, {
      timeoutMs: 15_000,
      what: 'the recovery lines',
    });
    expect(failures(recovered(`reading ${stream}`)[0])).toBeGreaterThanOrEqual(5);
    expect(failures(recovered(`reclaiming on ${stream}`)[0])).toBeGreaterThanOrEqual(5);

    // And the lane reads again.
    await send(stream, 'after.outage');
    await waitFor(async () => handled === 1, { timeoutMs: 10_000, what: 'the message sent after the outage' });
  });

  it('given Redis down and nothing in hand, when the server closes, then it says it closes without Redis and logs no failed ack or consumer removal', async () => {
    const stream = `${testKeyPrefix('streams-close-down')}stream`;
    const server = await listening(stream, {});
    await outage();

    await server.close();
    // A write still under way when close() returns fails once its connection is ended: its log line comes a turn later.
    await new Promise((resolve) => setImmediate(resolve));

    expect(lines.filter((line) => line.startsWith('Redis is unreachable: closing without waiting for it'))).toHaveLength(1);
    expect(failing(`removing idle consumers of ${stream}`)).toEqual([]);
    expect(lines.filter((line) => /^ack/i.test(line))).toEqual([]);
  });

  it('given Redis down while a draining server touches a message in flight, then the touches log one line when they start failing and one when they work again', async () => {
    const stream = 'touch{t}:stream';
    let entered = false;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = await listening(stream, {
      slow: async () => {
        entered = true;
        await gate;
      },
    });
    await send(stream, 'slow');
    await waitFor(async () => entered, { timeoutMs: 10_000, what: 'the handler' });
    await server.stopReading();

    await outage();
    await waitFor(async () => refused.xclaim >= 5, { timeoutMs: 15_000, what: 'five refused touches' });
    expect(failing(`touching messages on ${stream}`).length).toBeGreaterThanOrEqual(1);
    expect(failing(`touching messages on ${stream}`).length).toBeLessThanOrEqual(2);

    await upAgain();
    await waitFor(async () => recovered(`touching messages on ${stream}`).length === 1, { timeoutMs: 15_000, what: 'the recovery line' });
    expect(failures(recovered(`touching messages on ${stream}`)[0])).toBeGreaterThanOrEqual(5);
  });

  // A master that turns replica answers its blocked reads `UNBLOCKED … instance state changed`
  // (a graceful CLUSTER FAILOVER does so to every reader of the old master). That was taken for a
  // vanished group: a warning that Redis had restarted, and an XGROUP CREATE for nothing.
  it('given a blocked read when Redis turns replica, then it logs that a failover unblocked the read, recreates no group, and reads again once there is a master', async () => {
    const stream = 'failover{t}:stream';
    let handled = 0;
    // Seconds of block, so that a read seen blocked is still blocked when the role changes (and the close waits for one no longer).
    await listening(stream, { 'after.failover': async () => void (handled += 1) }, 5_000);
    const admin = new Redis(redis.url);
    try {
      await waitFor(async () => /cmd=xreadgroup .*\bflags=b\b|flags=b .*cmd=xreadgroup/.test(String(await admin.client('LIST'))), {
        timeoutMs: 10_000,
        what: 'the blocked read',
      });
      // A master that does not answer: the server keeps its data while it waits for it.
      await admin.replicaof('127.0.0.1', String(await findFreePort(LOCAL_REDIS_HOST)));
      await waitFor(async () => lines.some((line) => line.startsWith(`the read of ${stream} was unblocked by a failover`)), {
        timeoutMs: 10_000,
        what: 'the failover line',
      });
    } finally {
      await admin.replicaof('NO', 'ONE');
      await admin.quit();
    }
    expect(lines.filter((line) => /is gone|recreating/.test(line))).toEqual([]);

    await send(stream, 'after.failover');
    await waitFor(async () => handled === 1, { timeoutMs: 10_000, what: 'the message sent after the failover' });
  });
});
