import { KeyLayout, MissionStore } from '@app/event-store';
import { decideCreate } from '@app/mission';
import { createRedisConnection, disconnectNow, settlesWithin } from '@app/redis';
import { aCreateInput, deleteKeysByPrefix, nextEvent, startPrivateRedis, testKeyPrefix, testRedis, waitFor } from '@app/testing';
import { ApplyOutcome, Projection } from './projection';
import { entriesField, projectionCheckpointKey } from './projection-checkpoints';
import { ProjectionRunner } from './projection-runner';

describe('ProjectionRunner (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('projection-runner');
  const keys = new KeyLayout(prefix);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given batches that fail the same way twice, then the failure is reported once and the recovery once, with how many failed', async () => {
    await new MissionStore(redis, keys).append('m-1', null, decideCreate(aCreateInput()), { actor: 'test' });
    let refusals = 2;
    const projection: Projection = {
      name: 'refusing',
      readModelKeys: [],
      apply: async (_redis, batch): Promise<ApplyOutcome> => {
        if (refusals-- > 0) throw new Error("OOM command not allowed when used memory > 'maxmemory'.");
        // Moves the checkpoint as a projection's script does, so the batch is not read again.
        await redis.hset(projectionCheckpointKey(keys, 'refusing'), batch.stream, batch.lastId, entriesField(batch.stream), batch.entries);
        return { kind: 'applied', applied: batch.entries, ignored: 0 };
      },
    };
    const errors: unknown[] = [];
    const recoveries: { failures: number; forMs: number }[] = [];
    const runner = new ProjectionRunner(redis, keys, projection, {
      blockMs: 50,
      onError: (error) => errors.push(error),
      onRecovered: (failures, forMs) => recoveries.push({ failures, forMs }),
    });

    runner.start();
    await waitFor(async () => recoveries.length > 0, { timeoutMs: 10_000, what: 'the recovery' });
    await runner.stop();

    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('OOM command not allowed');
    expect(recoveries).toEqual([{ failures: 2, forMs: expect.any(Number) }]);
  });
});

// Redis goes away while the runner follows the log: its blocking read waits for a reconnect. Before,
// stop() disconnected the reader between two reconnect attempts, which failed nothing, and waited
// for that read for good: a service sent SIGTERM during an outage hung until SIGKILL.
describe('ProjectionRunner stopped while Redis is away (a private redis-server, halted)', () => {
  it('given a read waiting for a reconnect, then stop() ends within a second', async () => {
    const server = await startPrivateRedis();
    const redis = createRedisConnection({ REDIS_URL: server.url, REDIS_LIVENESS_TIMEOUT_MS: 1_000 }, { name: 'projection-outage', log: () => undefined });
    const projection: Projection = { name: 'idle', readModelKeys: [], apply: async () => ({ kind: 'applied', applied: 0, ignored: 0 }) };
    const runner = new ProjectionRunner(redis, new KeyLayout(testKeyPrefix('projection-outage')), projection, { blockMs: 100 });
    try {
      await redis.ping();
      runner.start();
      const lost = nextEvent(redis, 'reconnecting');
      await server.halt();
      await lost;

      const stopped = Date.now();
      await expect(settlesWithin(runner.stop(), 5_000)).resolves.toBe(true);
      expect(Date.now() - stopped).toBeLessThan(1_000);
    } finally {
      disconnectNow(redis);
      await server.restart();
      await server.stop();
    }
  }, 30_000);
});
