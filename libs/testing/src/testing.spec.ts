import { deleteKeysByPrefix, redisTarget, testKeyPrefix, testRedisConnection } from './index';

describe('redisTarget', () => {
  const saved = { ...process.env };

  afterEach(() => {
    process.env = { ...saved };
  });

  it('given no cluster, then only REDIS_URL is set', () => {
    delete process.env.REDIS_CLUSTER_NODES;
    process.env.REDIS_URL = 'redis://127.0.0.1:6390';
    expect(redisTarget()).toEqual({ REDIS_URL: 'redis://127.0.0.1:6390' });
  });

  it('given REDIS_CLUSTER_NODES, then it is passed on', () => {
    process.env.REDIS_CLUSTER_NODES = '127.0.0.1:7000,127.0.0.1:7001';
    expect(redisTarget()).toMatchObject({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001' });
  });
});

describe('deleteKeysByPrefix', () => {
  const redis = testRedisConnection('testing-spec');

  afterAll(async () => {
    await redis.quit();
  });

  it('deletes every key under the prefix, however many SCAN rounds it takes, and nothing beside it', async () => {
    const prefix = testKeyPrefix('delete-by-prefix');
    const keys = Array.from({ length: 2_500 }, (_, index) => `${prefix}k${index}`);
    // Differs from the prefix only in its last character, so a match that is one character loose would take it.
    const lookalike = `${prefix.slice(0, -1)}X:k`;
    await Promise.all([...keys, lookalike].map((key) => redis.set(key, '1')));

    await expect(deleteKeysByPrefix(redis, prefix)).resolves.toBe(keys.length);
    expect(await redis.exists(keys[0], keys[keys.length - 1])).toBe(0);
    expect(await redis.exists(lookalike)).toBe(1);
    await redis.unlink(lookalike);
  });

  it('refuses an empty prefix', async () => {
    await expect(deleteKeysByPrefix(redis, '')).rejects.toThrow(/non-empty prefix/);
  });
});
