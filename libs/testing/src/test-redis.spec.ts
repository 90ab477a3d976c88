import { testRedis, testRedisConnection } from './index';

// A describe block Jest skips whole never quits its client: one that connected at once kept Jest from exiting.
describe('the test Redis clients', () => {
  it.each([
    ['testRedis', () => testRedis()],
    ['testRedisConnection', () => testRedisConnection('test-redis-spec')],
  ])('given a client from %s, when no command is sent, then it opens no connection; the first command opens it', async (_, create) => {
    const redis = create();
    try {
      expect(redis.status).toBe('wait');
      expect(await redis.ping()).toBe('PONG');
      expect(redis.status).toBe('ready');
    } finally {
      await redis.quit();
    }
  });
});
