import Redis from 'ioredis';
import { PrivateRedis, rejectionOf, startPrivateRedis } from '@app/testing';
import { execAll } from './exec-all';
import { checkEvictionPolicy, isRedisOutOfMemory, redisMemoryFull } from './redis-memory';
import { isTransientRedisError, RedisUnreachableError } from './redis-reachability';

describe('isRedisOutOfMemory, against a private redis-server whose maxmemory is reached', () => {
  let server: PrivateRedis;
  let redis: Redis;

  beforeAll(async () => {
    // Its own server: a maxmemory on the shared one would refuse every other test's writes.
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    await redis.set('ballast', 'x'.repeat(2 * 1024 * 1024));
    await redis.config('SET', 'maxmemory', '1mb');
  });

  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('given a write refused, a script write refused or a MULTI discarded for it (EXECABORT), then each is out of memory', async () => {
    const errors = [
      await rejectionOf(redis.set('k', '1')),
      await rejectionOf(redis.eval("return redis.call('INCR', KEYS[1])", 1, 'k')),
      await rejectionOf(execAll(redis.multi().incr('k'))),
      // A MULTI of reads as well: Redis refuses whatever is queued while it is full.
      await rejectionOf(execAll(redis.multi().get('k').hgetall('h'))),
      new Error('the append failed', { cause: await rejectionOf(redis.incr('k')) }),
    ];
    expect(errors.map(isRedisOutOfMemory)).toEqual([true, true, true, true, true]);
    // The same command may succeed once there is room: the executor retries an outcome refused so.
    expect(errors.map(isTransientRedisError)).toEqual([true, true, true, true, true]);
  });

  it('given other refusals and an unreachable Redis, then none is out of memory', async () => {
    const errors = [
      await rejectionOf(redis.call('NOSUCHCOMMAND')),
      // Nothing else queued: while Redis is full it refuses every command queued in a MULTI, reads too.
      await rejectionOf(execAll(redis.multi().call('NOSUCHCOMMAND'))),
      new RedisUnreachableError(),
      new Error('OOM in a message that is no reply of Redis'),
      // A handler's own call out (an HTTP server down): retried as if Redis were, it was never poisoned.
      new Error('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) }),
    ];
    expect(errors.map(isRedisOutOfMemory)).toEqual([false, false, false, false, false]);
    expect(errors.map(isTransientRedisError)).toEqual([false, false, true, false, false]);
  });

  it('given maxmemory reached, then INFO memory says full; given room again, then not', async () => {
    await expect(redisMemoryFull(redis)).resolves.toBe(true);
    await redis.config('SET', 'maxmemory', '0');
    try {
      await expect(redisMemoryFull(redis)).resolves.toBe(false);
      await redis.config('SET', 'maxmemory', '1gb');
      await expect(redisMemoryFull(redis)).resolves.toBe(false);
    } finally {
      await redis.config('SET', 'maxmemory', '1mb');
    }
  });
});

describe('checkEvictionPolicy, against a private redis-server', () => {
  let server: PrivateRedis;
  let redis: Redis;
  const lines: string[] = [];
  const log = { warn: (line: string) => lines.push(`warn ${line}`), info: (line: string) => lines.push(`info ${line}`) };

  beforeAll(async () => {
    // Its own server: the policy of the shared one is not the test's to change.
    server = await startPrivateRedis();
    redis = new Redis(server.url);
  });

  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  beforeEach(() => (lines.length = 0));

  it('given noeviction, then nothing is logged', async () => {
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    await checkEvictionPolicy(redis, log);
    expect(lines).toEqual([]);
  });

  it.each(['allkeys-lru', 'volatile-ttl'])('given %s, then a warning names it and the section of the guide', async (policy) => {
    await redis.config('SET', 'maxmemory-policy', policy);
    await checkEvictionPolicy(redis, log);
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^warn Redis's maxmemory-policy is ${policy}: .*lost without an error.*"Recommended Redis settings"`)),
    ]);
  });

  it('given a user that may not run CONFIG (as on managed Redis), then a note at info, and the start goes on', async () => {
    await redis.call('ACL', 'SETUSER', 'no-config', 'on', '>no-config-secret', '~*', '&*', '+@all', '-config');
    const limited = new Redis(server.url, { username: 'no-config', password: 'no-config-secret' });
    try {
      await checkEvictionPolicy(limited, log);
    } finally {
      limited.disconnect();
    }
    expect(lines).toEqual([expect.stringMatching(/^info cannot read Redis's maxmemory-policy \(CONFIG GET refused: NOPERM.*make sure it is noeviction/)]);
  });
});
