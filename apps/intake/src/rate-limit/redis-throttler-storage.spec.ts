import { deleteKeysByPrefix, testKeyPrefix, testRedis } from '@app/testing';
import { RedisThrottlerStorage } from './redis-throttler-storage';

describe('RedisThrottlerStorage (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('throttler-storage');
  const storage = new RedisThrottlerStorage(redis, prefix);

  /** Ends the key's window or block now, as its TTL running out would: a non-positive PEXPIRE deletes the key. */
  const expireNow = (key: string) => redis.pexpire(storage.key(key, 'default'), 0);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given hits within the limit, then they count up, with the window end in seconds, unblocked', async () => {
    const first = await storage.increment('count', 60_000, 2, 0, 'default');
    expect(first).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    expect(await storage.increment('count', 60_000, 2, 0, 'default')).toMatchObject({ totalHits: 2, isBlocked: false });
    expect(await redis.pttl(storage.key('count', 'default'))).toBeGreaterThan(59_000);
  });

  it('given no block duration, then a caller over the limit is blocked until the window ends and then counts afresh', async () => {
    await storage.increment('window', 60_000, 1, 0, 'default');
    const over = await storage.increment('window', 60_000, 1, 0, 'default');
    expect(over).toMatchObject({ isBlocked: true, timeToBlockExpire: 60 });
    const windowLeft = await redis.pttl(storage.key('window', 'default'));
    // Blocked hits do not count, so hammering does not push the window out.
    await storage.increment('window', 60_000, 1, 0, 'default');
    expect(await redis.get(storage.key('window', 'default'))).toBe('2');
    expect(await redis.pttl(storage.key('window', 'default'))).toBeLessThanOrEqual(windowLeft);
    await expireNow('window');
    expect(await storage.increment('window', 60_000, 1, 0, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('given a block duration, then the block lasts that long past the overshoot, and then a fresh window starts', async () => {
    await storage.increment('block', 200, 1, 0, 'default');
    const over = await storage.increment('block', 200, 1, 2_500, 'default');
    expect(over).toMatchObject({ totalHits: 2, isBlocked: true, timeToBlockExpire: 3 });
    // As 300 ms later: past the 200 ms window but still inside the block.
    await redis.pexpire(storage.key('block', 'default'), 2_500 - 300);
    expect(await storage.increment('block', 200, 1, 2_500, 'default')).toMatchObject({ isBlocked: true, timeToBlockExpire: 3 });
    await expireNow('block');
    expect(await storage.increment('block', 200, 1, 2_500, 'default')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('given two throttler names or two keys, then their counts are separate', async () => {
    await storage.increment('split', 60_000, 5, 0, 'default');
    expect(await storage.increment('split', 60_000, 5, 0, 'burst')).toMatchObject({ totalHits: 1 });
    expect(await storage.increment('split-2', 60_000, 5, 0, 'default')).toMatchObject({ totalHits: 1 });
  });

  it('given a second storage on another connection with the same prefix, then it sees the same count', async () => {
    const other = testRedis();
    try {
      await storage.increment('shared', 60_000, 5, 0, 'default');
      expect(await new RedisThrottlerStorage(other, prefix).increment('shared', 60_000, 5, 0, 'default')).toMatchObject({ totalHits: 2 });
    } finally {
      await other.quit();
    }
  });
});
