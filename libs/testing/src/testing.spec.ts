import { deleteKeysByPrefix, redisTarget, testKeyPrefix, testRedisConnection, waitFor } from './index';

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

describe('waitFor', () => {
  it('given its signal aborted while it waits, then it rejects and probes no more: a wait that lost a race does not keep polling until its timeout', async () => {
    const decided = new AbortController();
    let probes = 0;
    const waiting = waitFor(
      async () => {
        probes += 1;
        if (probes === 2) decided.abort();
        return false;
      },
      { timeoutMs: 60_000, intervalMs: 1, what: 'something that never comes', signal: decided.signal },
    );
    await expect(waiting).rejects.toThrow('stopped waiting for something that never comes');
    expect(probes).toBe(2);
  });
});
