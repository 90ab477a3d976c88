import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { KeyLayout, MissionStore, parseLogEntry } from '@app/event-store';
import { decideCreate } from '@app/mission';
import {
  DailyReportProjection,
  DailyReportReader,
  DailyReportRow,
  loadCheckpoints,
  LogTail,
  ProjectionBatch,
  ProjectionMetrics,
  ProjectionRunner,
  rebuildProjection,
} from '@app/projections';
import { deleteKeysByPrefix, testKeyPrefix, waitFor, aCreate, buildKnownLog, KNOWN_EVENT_COUNT, testRedis } from '@app/testing';

const DAY = '2025-06-01';

/** The known log (libs/audit/src/testing/known-log.ts) happens on one day; counted by hand from its story. */
const EXPECTED: Record<string, Omit<DailyReportRow, 'day' | 'type'>> = {
  // m-ok (succeeded 0.92), m-cancel (cancelled), m-wait (only created)
  guest_support: {
    created: 3,
    attempts: 1,
    failedAttempts: 0,
    evaluations: 1,
    meanScore: 0.92,
    succeeded: 1,
    deadLettered: 0,
    requeued: 0,
    cancelled: 1,
    reviewsRequested: 0,
    approved: 0,
    edited: 0,
    rejected: 0,
    reviewsOverdue: 0,
    promptTokens: 310,
    completionTokens: 42,
    costUsd: 0,
  },
  // m-dead: one attempt evaluated 0.31, then dead-lettered
  pricing: {
    created: 1,
    attempts: 1,
    failedAttempts: 0,
    evaluations: 1,
    meanScore: 0.31,
    succeeded: 0,
    deadLettered: 1,
    requeued: 0,
    cancelled: 0,
    reviewsRequested: 0,
    approved: 0,
    edited: 0,
    rejected: 0,
    reviewsOverdue: 0,
    promptTokens: 310,
    completionTokens: 42,
    costUsd: 0,
  },
  // m-retry: attempt 1 failed, attempt 2 evaluated 0.55 (fail), attempt 3 evaluated 0.88 (pass)
  maintenance: {
    created: 1,
    attempts: 3,
    failedAttempts: 1,
    evaluations: 2,
    meanScore: 0.715,
    succeeded: 1,
    deadLettered: 0,
    requeued: 0,
    cancelled: 0,
    reviewsRequested: 0,
    approved: 0,
    edited: 0,
    rejected: 0,
    reviewsOverdue: 0,
    promptTokens: 620,
    completionTokens: 84,
    costUsd: 0,
  },
};

describe('projections over the event log (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let keys: KeyLayout;
  let projection: DailyReportProjection;
  let reader: DailyReportReader;
  const runners: ProjectionRunner[] = [];

  const runner = (options: ConstructorParameters<typeof ProjectionRunner>[3] = {}) => {
    const created = new ProjectionRunner(redis, keys, projection, { blockMs: 50, ...options });
    runners.push(created);
    return created;
  };
  /** Everything the projection owns, checkpoint included, exactly as stored. */
  const snapshot = async () => ({
    report: await redis.hgetall(projection.reportKey),
    missions: await redis.hgetall(projection.missionsKey),
    checkpoint: await redis.hgetall(keys.projection(projection.name, 'checkpoint')),
  });
  const reportOfTheDay = async () => (await reader.read(DAY, DAY)).rows;

  beforeAll(() => {
    redis = testRedis();
  });
  beforeEach(async () => {
    prefix = testKeyPrefix('projections');
    keys = new KeyLayout(prefix);
    projection = new DailyReportProjection(keys);
    reader = new DailyReportReader(redis, projection);
    await buildKnownLog(redis, keys);
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
    await deleteKeysByPrefix(redis, prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('given the known log, when the daily report catches up, then it holds the counts of the story and no lag', async () => {
    const consumed = await runner({ batchSize: 1000 }).catchUp();

    expect(consumed).toBe(KNOWN_EVENT_COUNT);
    const rows = await reportOfTheDay();
    for (const row of rows) {
      const { meanScore, ...counts } = EXPECTED[row.type];
      expect({ ...row, meanScore: undefined }).toEqual({ day: DAY, type: row.type, ...counts, meanScore: undefined });
      expect(row.meanScore).toBeCloseTo(meanScore ?? NaN, 10);
    }
    expect(rows.map((r) => r.type)).toEqual(['guest_support', 'pricing', 'maintenance']);
    expect((await reader.read(DAY, DAY)).lagEvents).toBe(0);
  });

  // Such an entry made the report retry the same batch forever (a TypeError on an unknown type), its checkpoint stuck.
  it('given log entries that are no readable event (not JSON, an unknown type, a field missing), when the report catches up, then it passes over each with one warning naming its log id and counts the rest', async () => {
    const [log] = keys.partitions.map((partition) => partition.log);
    const event = (type: string, data: object) =>
      JSON.stringify({
        eventId: `e-${type}`,
        type,
        missionId: 'm-ok',
        version: 99,
        at: `${DAY}T12:00:00.000Z`,
        actor: 'hand',
        correlationId: 'c',
        causationId: 'c',
        schemaVersion: 8,
        data,
      });
    const unreadable = [
      await redis.xadd(log, '*', 'm', 'm-broken', 'e', '{not json'),
      await redis.xadd(log, '*', 'm', 'm-ok', 'e', event('MissionTeleported', { to: 'Mars' })),
      await redis.xadd(log, '*', 'm', 'm-ok', 'e', event('MissionFailed', { agentId: 'a', error: 'boom' })),
    ];
    const [batch] = await new LogTail([log], 1_000).read(redis, new Map(), 0);
    expect(batch.entries).toBe(KNOWN_EVENT_COUNT + 3);
    expect(batch.events).toHaveLength(KNOWN_EVENT_COUNT);

    const warned: string[] = [];
    const consumed = await runner({ batchSize: 1000, onUnreadable: (entry) => warned.push(`${entry.logId}: ${entry.reason}`) }).catchUp();

    expect(consumed).toBe(KNOWN_EVENT_COUNT + 3);
    expect(warned).toEqual([
      `${unreadable[0]}: the stored event is not valid JSON`,
      `${unreadable[1]}: its type "MissionTeleported" is no mission event type`,
      `${unreadable[2]}: a MissionFailed without data.attempt (a number)`,
    ]);
    expect(await redis.hget(keys.projection(projection.name, 'checkpoint'), log)).toBe(unreadable[2]);
    expect((await reportOfTheDay()).find((row) => row.type === 'guest_support')?.failedAttempts).toBe(EXPECTED.guest_support.failedAttempts);
    expect((await reader.read(DAY, DAY)).lagEvents).toBe(0);
  });

  it('given a projection stopped after two batches, when a new one starts, then it resumes from the checkpoint with no gap and no double apply', async () => {
    const first = runner({ batchSize: 5, maxBatches: 2 });
    first.start();
    await first.finished;
    const partial = await loadCheckpoints(redis, keys, projection.name);
    expect(partial.get(keys.partitions[0].log)).not.toBe('');
    expect((await reportOfTheDay()).find((r) => r.type === 'maintenance')?.succeeded).toBe(0);

    let ignored = 0;
    const second = runner({ batchSize: 5, onBatch: (_b, outcome) => (ignored += outcome.kind === 'applied' ? outcome.ignored : 0) });
    second.start();
    await waitFor(async () => (await reader.read(DAY, DAY)).lagEvents === 0, { timeoutMs: 10_000, what: 'the second runner to catch up' });
    await second.stop();
    const resumed = await snapshot();

    await rebuildProjection(redis, keys, projection, { batchSize: 1000 });
    expect(ignored).toBe(0);
    expect(resumed).toEqual(await snapshot());
  });

  it('given a projection whose connection is closed mid-run, when it is started again, then the report equals a run from scratch', async () => {
    const killed = runner({ batchSize: 3, onBatch: () => void (killed.appliedBatches === 2 && killed.stop()) });
    killed.start();
    await waitFor(async () => killed.appliedBatches >= 2, { timeoutMs: 10_000, what: 'two batches' });
    await killed.stop();
    const stoppedAt = (await loadCheckpoints(redis, keys, projection.name)).get(keys.partitions[0].log);
    const [[lastId]] = (await redis.xrevrange(keys.partitions[0].log, '+', '-', 'COUNT', 1)) as [string, string[]][];
    expect(stoppedAt).not.toBe(lastId);

    killed.start();
    await waitFor(async () => (await loadCheckpoints(redis, keys, projection.name)).get(keys.partitions[0].log) === lastId, {
      timeoutMs: 10_000,
      what: 'the restart to reach the head',
    });
    await killed.stop();
    const resumed = await snapshot();
    await rebuildProjection(redis, keys, projection);
    expect(resumed).toEqual(await snapshot());
  });

  it('given an event already applied, when it is applied again in a later batch, then nothing changes and it counts as ignored', async () => {
    await runner().catchUp();
    const before = await snapshot();
    const [[lastId, fields]] = (await redis.xrevrange(keys.partitions[0].log, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const event = parseLogEntry(fields);

    const outcome = await projection.apply(redis, { stream: keys.partitions[0].log, after: lastId, lastId, entries: 0, events: [event], unreadable: [] });

    expect(outcome).toEqual({ kind: 'applied', applied: 0, ignored: 1 });
    expect(await snapshot()).toEqual(before);
  });

  it('given a batch read after a checkpoint that has moved on, when it is applied, then it is refused as stale and nothing changes', async () => {
    await runner().catchUp();
    const before = await snapshot();
    const [[firstId, fields]] = (await redis.xrange(keys.partitions[0].log, '-', '+', 'COUNT', 1)) as [string, string[]][];

    const outcome = await projection.apply(redis, {
      stream: keys.partitions[0].log,
      after: '',
      lastId: firstId,
      entries: 1,
      events: [parseLogEntry(fields)],
      unreadable: [],
    });

    expect(outcome).toEqual({ kind: 'stale', checkpoint: before.checkpoint[keys.partitions[0].log] });
    expect(await snapshot()).toEqual(before);
  });

  it('given two runners following the same log, when both run, then every event is counted once', async () => {
    runner({ batchSize: 2 }).start();
    runner({ batchSize: 3 }).start();
    await waitFor(async () => (await reader.read(DAY, DAY)).lagEvents === 0, { timeoutMs: 10_000, what: 'the runners to catch up' });
    const created = (await reportOfTheDay()).map((r) => r.created);
    expect(created).toEqual([3, 1, 1]);
    const racing = await snapshot();
    await rebuildProjection(redis, keys, projection);
    expect(racing.report).toEqual((await snapshot()).report);
  });

  it('given a following projection, when it catches up and a new mission arrives, then the lag metric goes to 0 and the new mission is counted', async () => {
    const registry = new Registry();
    const metrics = new ProjectionMetrics(registry, redis, keys, [projection.name]);
    const gauge = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.projection === projection.name)?.value;
    expect(await gauge('brain_projection_lag_events')).toBe(KNOWN_EVENT_COUNT);
    expect(await gauge('brain_projection_lag_seconds')).toBeGreaterThanOrEqual(0);

    runner({ onBatch: (_b, outcome) => metrics.record(projection.name, outcome) }).start();
    await waitFor(async () => (await gauge('brain_projection_lag_events')) === 0, { timeoutMs: 10_000, what: 'lag 0' });
    expect(await gauge('brain_projection_lag_seconds')).toBe(0);
    const applied = await gauge('brain_projection_events_applied_total');
    expect(applied).toBeGreaterThan(0);

    const now = new Date(`${DAY}T20:00:00Z`);
    await new MissionStore(redis, keys).append('m-late', null, decideCreate(aCreate({ type: 'pricing' })), { actor: 'intake', now });
    await waitFor(async () => (await reportOfTheDay()).find((r) => r.type === 'pricing')?.created === 2, {
      timeoutMs: 10_000,
      what: 'the new mission in the report',
    });
    await waitFor(async () => (await gauge('brain_projection_lag_events')) === 0, { timeoutMs: 10_000, what: 'lag 0 again' });
    expect(await gauge('brain_projection_events_applied_total')).toBe((applied ?? 0) + 1);
  });

  it('given a following projection with no use for events, then its checkpoint passes over new entries unread; once it wants them, it reads those after', async () => {
    /** The daily report that says when it has a use for events, and counts the events it was given. */
    class ReportWhenAsked extends DailyReportProjection {
      wanted = false;
      given = 0;
      async wantsEvents(): Promise<boolean> {
        return this.wanted;
      }
      async apply(connection: Parameters<DailyReportProjection['apply']>[0], batch: ProjectionBatch) {
        this.given += batch.events.length;
        return super.apply(connection, batch);
      }
    }
    const asked = new ReportWhenAsked(keys);
    const following = new ProjectionRunner(redis, keys, asked, { blockMs: 50 });
    runners.push(following);
    following.start();
    const lag = async () => (await reader.read(DAY, DAY)).lagEvents;
    await waitFor(async () => (await lag()) === 0, { timeoutMs: 10_000, what: 'the known log passed over' });
    const store = new MissionStore(redis, keys);
    const now = new Date(`${DAY}T20:00:00Z`);
    await store.append('m-passed', null, decideCreate(aCreate({ type: 'pricing' })), { actor: 'intake', now });
    await waitFor(async () => (await lag()) === 0, { timeoutMs: 10_000, what: 'the new entries passed over' });
    expect(asked.given).toBe(0);
    expect((await reportOfTheDay()).every((row) => row.created === 0 && row.attempts === 0)).toBe(true);

    asked.wanted = true;
    await store.append('m-read', null, decideCreate(aCreate({ type: 'pricing' })), { actor: 'intake', now });
    await waitFor(async () => (await reportOfTheDay()).find((r) => r.type === 'pricing')?.created === 1, {
      timeoutMs: 10_000,
      what: 'the mission created after in the report',
    });
    // MissionCreated and MissionQueued of m-read; nothing of m-passed or of the known log.
    expect(asked.given).toBe(2);
  });
});
