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
import { RetentionService } from './retention.service';

describe('RetentionService rounds in /metrics (real Redis)', () => {
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
});
