import type Redis from 'ioredis';
import { rebuildReadModels, verifyLog } from '@app/audit';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { writeSyntheticLog } from '../../scripts/bench/synthetic-log';

describe("the bench's synthetic log", () => {
  const redis = testRedisConnection('synthetic-log-spec') as Redis;
  const keys = new KeyLayout(testKeyPrefix('synthetic-log'));
  afterAll(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
    await redis.quit();
  });

  it('given a log written without the append script, then verify finds every chain whole, as after real appends', async () => {
    const events = await writeSyntheticLog(redis, keys, 8);

    const verified = await verifyLog(redis, keys);
    expect(verified.findings).toEqual([]);
    expect(verified).toMatchObject({ ok: true, events });
    // Its queued missions were in no queue: every rebuild mended them, and the bench timed that as the rebuild's.
    expect(await rebuildReadModels(redis, keys)).toMatchObject({ effectsMended: 0, effectsRestored: 0 });
  });
});
