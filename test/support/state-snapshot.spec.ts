import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedis } from '@app/testing';
import { stateSnapshot } from './state-snapshot';

describe('stateSnapshot (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('state-snapshot');
  const keys = new KeyLayout(prefix);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // The fuzz suite compares snapshots around refused requests; an intake's retention round took its turn in between once.
  it('given a mission hash, when an intake takes the retention turn, then the snapshot is unchanged', async () => {
    await redis.hset(keys.mission('m-1'), 'v', '1');
    const before = await stateSnapshot({ redis, prefix });

    await redis.set(keys.retentionTurn, 'intake-1', 'PX', 60_000, 'NX');

    expect(await stateSnapshot({ redis, prefix })).toEqual(before);
    expect(Object.keys(before)).toEqual([keys.mission('m-1')]);
  });
});
