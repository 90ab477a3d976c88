import { PinoLogger } from 'nestjs-pino';
import { loadEnvironment } from '@app/config';
import { KeyLayout, MissionStore } from '@app/event-store';
import { ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { MetricsRegistry } from '@app/runtime';
import { deleteKeysByPrefix, TEST_QUEUE_ORDER, testKeyPrefix, testPersonalData, testRedisConnection } from '@app/testing';
import { PendingErasures } from '../subjects/pending-erasures';
import { SubjectsService } from '../subjects/subjects.service';
import { RetentionMetrics } from './retention-metrics';
import { RETENTION_PAGE, RetentionService } from './retention.service';

describe('RetentionService (real Redis)', () => {
  const redis = testRedisConnection('retention-service-spec');
  const keys = new KeyLayout(testKeyPrefix('retention-service'));
  const store = new MissionStore(redis, keys);
  const pipeline = new MissionPipeline(store, new ReadyQueue(redis, keys, TEST_QUEUE_ORDER));
  const subjects = new SubjectsService(redis, keys, store, pipeline, testPersonalData(redis, keys.prefix), new PendingErasures(redis, keys));
  const registry = new MetricsRegistry('intake');
  const retention = new RetentionService(
    store,
    keys,
    subjects,
    new RetentionMetrics(registry),
    redis,
    loadEnvironment({}),
    new PinoLogger({ pinoHttp: { level: 'silent' } }),
  );

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
    await redis.quit();
  });

  // Only the timer's rounds were counted: a manual run, which erases as much, left no trace in /metrics.
  it('given a manual run and two timer ticks in one period, when /metrics is read, then each round is counted with its trigger', async () => {
    await retention.run(new Date(), 'ops-key');
    await retention.round();
    await retention.round();

    const rounds = await registry.getSingleMetricAsString('brain_retention_rounds_total');
    expect(rounds).toContain('brain_retention_rounds_total{trigger="manual",outcome="done",service="intake"} 1');
    expect(rounds).toContain('brain_retention_rounds_total{trigger="timer",outcome="done",service="intake"} 1');
    expect(rounds).toContain('brain_retention_rounds_total{trigger="timer",outcome="skipped",service="intake"} 1');
  });

  // The survey read each next page of a set at an offset: an entry before it leaving the set
  // meanwhile moved every entry behind it one place up, and the first entry of the next page was
  // not read until the next round, a period later.
  it('given an entry the survey read leaving its set meanwhile, then the round still reads the entry after the page, and drops every entry left with no subject', async () => {
    const key = keys.partitions[0].retention('maintenance');
    // Finished in 1970, and no longer there: entries that name no subject left to erase.
    const gone = Array.from({ length: RETENTION_PAGE + 1 }, (_, i) => `m-gone-${String(i).padStart(3, '0')}`);
    await redis.zadd(key, ...gone.flatMap((id, score) => [score, id]));
    const load = store.load.bind(store);
    const read: string[] = [];
    jest.spyOn(store, 'load').mockImplementation(async (missionId) => {
      read.push(missionId);
      // Another round (a manual run beside the timer's) drops the first one as the survey reads the last of the page.
      if (missionId === gone[RETENTION_PAGE - 1]) await redis.zrem(key, gone[0]);
      return load(missionId);
    });

    await retention.run(new Date(), 'ops-key');

    expect(read).toEqual(gone);
    expect(await redis.zcard(key)).toBe(0);
  });
});
