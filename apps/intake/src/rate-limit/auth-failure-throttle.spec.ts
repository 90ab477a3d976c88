import { deleteKeysByPrefix, testKeyPrefix, testRedis } from '@app/testing';
import { AuthFailureThrottle } from './auth-failure-throttle';
import { RedisThrottlerStorage } from './redis-throttler-storage';

describe('AuthFailureThrottle (real Redis, fake clock for its memory)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('auth-failures');
  let now = 1_000_000;
  const throttle = new AuthFailureThrottle(new RedisThrottlerStorage(redis, prefix), 2, () => now);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given failures within the budget, then nothing is blocked; past it, the address is blocked until the window ends', async () => {
    expect(await throttle.fail('10.0.0.1')).toBe(0);
    expect(await throttle.fail('10.0.0.1')).toBe(0);
    expect(throttle.retryAfter('10.0.0.1')).toBe(0);
    const wait = await throttle.fail('10.0.0.1');
    expect(wait).toBeGreaterThanOrEqual(59);
    expect(wait).toBeLessThanOrEqual(60);
    expect(throttle.retryAfter('10.0.0.1')).toBe(wait);
    expect(throttle.retryAfter('10.0.0.2')).toBe(0);
    now += 30_000;
    expect(throttle.retryAfter('10.0.0.1')).toBe(wait - 30);
    now += 31_000;
    expect(throttle.retryAfter('10.0.0.1')).toBe(0);
    expect(await redis.get(`${prefix}ratelimit:auth:ip:10.0.0.1`)).toBe('3');
  });
});
