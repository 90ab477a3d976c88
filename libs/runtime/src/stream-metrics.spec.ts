import { Registry } from 'prom-client';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { StreamMetrics } from './stream-metrics';

describe('StreamMetrics (real Redis)', () => {
  const redis = testRedisConnection('stream-metrics-spec');
  const keys = new KeyLayout(testKeyPrefix('stream-metrics'), 2);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
    await redis.quit();
  });

  const value = async (registry: Registry, name: string, stream: string) => {
    const metric = (await registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.stream === stream);
    return metric?.value;
  };

  it('given messages delivered and not, then it reports length, pending, lag, oldest pending age and consumers per stream of the service', async () => {
    const stream = keys.partitions[0].stream('executor');
    await redis.xgroup('CREATE', stream, 'executor', '0', 'MKSTREAM');
    const writtenAt = Date.now() - 5_000;
    await redis.xadd(stream, `${writtenAt}-0`, 'pattern', 'a', 'data', '{}');
    for (let i = 1; i <= 4; i++) await redis.xadd(stream, `${writtenAt + i}-0`, 'pattern', 'a', 'data', '{}');
    await redis.xreadgroup('GROUP', 'executor', 'instance-1', 'COUNT', 2, 'STREAMS', stream, '>');
    const registry = new Registry();
    const metrics = new StreamMetrics(registry, redis, keys, 'executor');
    const label = '{m0}:stream:executor';

    expect(await value(registry, 'brain_stream_length', label)).toBe(5);
    expect(await value(registry, 'brain_stream_pending_messages', label)).toBe(2);
    expect(await value(registry, 'brain_stream_lag_messages', label)).toBe(3);
    expect(await value(registry, 'brain_stream_consumers', label)).toBe(1);
    expect(await value(registry, 'brain_stream_oldest_pending_age_seconds', label)).toBeGreaterThanOrEqual(5);
    // The other partition's stream does not exist yet: all zero, not an error.
    expect(await value(registry, 'brain_stream_pending_messages', '{m1}:stream:executor')).toBe(0);

    metrics.poisoned(stream, 2);
    metrics.reclaimed(stream, 1);
    expect(await value(registry, 'brain_stream_poisoned_total', label)).toBe(2);
    expect(await value(registry, 'brain_stream_reclaimed_total', label)).toBe(1);
  });

  it('given a service that poisoned and rejected nothing yet, then its counters read 0 for each of its streams, so increase() sees the first', async () => {
    const registry = new Registry();
    new StreamMetrics(registry, redis, keys, 'intake');

    for (const label of ['{m0}:stream:intake', '{m1}:stream:intake']) {
      for (const name of [
        'brain_stream_poisoned_total',
        'brain_stream_rejected_total',
        'brain_stream_reclaimed_total',
        'brain_stream_consumers_removed_total',
      ]) {
        expect({ name, label, value: await value(registry, name, label) }).toEqual({ name, label, value: 0 });
      }
    }
  });

  it('given acked messages deleted (the default), then the lag is what is on the stream and not pending', async () => {
    const stream = keys.partitions[1].stream('evaluator');
    await redis.xgroup('CREATE', stream, 'evaluator', '0', 'MKSTREAM');
    for (let i = 0; i < 4; i++) await redis.xadd(stream, '*', 'pattern', 'a', 'data', '{}');
    const [[, delivered]] = (await redis.xreadgroup('GROUP', 'evaluator', 'c', 'COUNT', 2, 'STREAMS', stream, '>')) as [string, [string, string[]][]][];
    await redis.xack(stream, 'evaluator', delivered[0][0]);
    await redis.xdel(stream, delivered[0][0]);
    await redis.xadd(stream, '*', 'pattern', 'a', 'data', '{}');
    const registry = new Registry();
    new StreamMetrics(registry, redis, keys, 'evaluator');

    expect(await value(registry, 'brain_stream_pending_messages', '{m1}:stream:evaluator')).toBe(1);
    expect(await value(registry, 'brain_stream_lag_messages', '{m1}:stream:evaluator')).toBe(3);
  });

  // Redis 7.0 counts the lag from the group's entries-read, which a promoted replica may hold far
  // behind the truth: the gauge stayed high after a failover with nothing left to deliver.
  it('given a lag Redis overstates (entries-read behind, as on a promoted replica), then it reports no more than is on the stream and not pending', async () => {
    const stream = keys.partitions[0].stream('evaluator');
    await redis.xgroup('CREATE', stream, 'evaluator', '0', 'MKSTREAM');
    for (let i = 0; i < 4; i++) await redis.xadd(stream, '*', 'pattern', 'a', 'data', '{}');
    const [[, delivered]] = (await redis.xreadgroup('GROUP', 'evaluator', 'c', 'COUNT', 4, 'STREAMS', stream, '>')) as [string, [string, string[]][]][];
    for (const [id] of delivered.slice(0, 2)) {
      await redis.xack(stream, 'evaluator', id);
      await redis.xdel(stream, id);
    }
    await redis.xgroup('SETID', stream, 'evaluator', delivered[3][0], 'ENTRIESREAD', 0);
    // XINFO's flat [name, value, …] of the one group, as text: Redis says 4 are not delivered.
    expect(String(await redis.xinfo('GROUPS', stream))).toMatch(/\blag,4$/);
    const registry = new Registry();
    new StreamMetrics(registry, redis, keys, 'evaluator');

    expect(await value(registry, 'brain_stream_pending_messages', '{m0}:stream:evaluator')).toBe(2);
    expect(await value(registry, 'brain_stream_lag_messages', '{m0}:stream:evaluator')).toBe(0);
  });
});
