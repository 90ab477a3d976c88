import Redis from 'ioredis';
import { PrivateRedis, rejectionOf, startPrivateRedis } from '@app/testing';
import { execAll } from './exec-all';
import { isRedisPassingRefusal, isRedisUnreachable, isTransientRedisError } from './redis-reachability';
import { untilRedisTakes } from './until-redis-takes';

/** A port nothing listens on: the replica keeps trying to reach its master there, and stays a replica. */
const NO_MASTER_PORT = 1;

describe('passing refusals, against a private redis-server made a replica (as during a failover)', () => {
  let server: PrivateRedis;
  let redis: Redis;

  beforeAll(async () => {
    // Its own server: the shared one must keep taking every other test's writes.
    server = await startPrivateRedis();
    redis = new Redis(server.url);
  });

  beforeEach(async () => {
    await redis.call('REPLICAOF', '127.0.0.1', String(NO_MASTER_PORT));
  });

  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('given a write, a script write and a MULTI refused by the replica (READONLY), then each passes by itself, and none is an outage', async () => {
    const errors = [
      await rejectionOf(redis.set('k', '1')),
      await rejectionOf(redis.eval("return redis.call('INCR', KEYS[1])", 1, 'k')),
      await rejectionOf(execAll(redis.multi().incr('k'))),
      new Error('the append failed', { cause: await rejectionOf(redis.incr('k')) }),
    ];
    expect(errors.map((error) => (error as Error).message.split(' ', 1)[0])).toEqual(['READONLY', 'READONLY', 'EXECABORT', 'the']);
    expect(errors.map(isRedisPassingRefusal)).toEqual([true, true, true, true]);
    // Redis answered: the intake says 503 and retry, but readiness and the outage gate do not take it for a lost connection.
    expect(errors.map(isRedisUnreachable)).toEqual([false, false, false, false]);
    // Before: a transient error only when out of memory or unreachable, so the executor and the evaluator did not
    // retry their appends, and the transport counted the deliveries towards poisoning the message.
    expect(errors.map(isTransientRedisError)).toEqual([true, true, true, true]);
  });

  it('given a write refused by the replica, when it is promoted (REPLICAOF NO ONE), then untilRedisTakes has tried again until it took the write', async () => {
    const written = untilRedisTakes(() => redis.incr('attempts-taken'), {
      signal: new AbortController().signal,
      firstRefusal: () => void redis.call('REPLICAOF', 'NO', 'ONE'),
    });
    await expect(written).resolves.toEqual({ value: 1, refusals: 1 });
  });

  it('given other replies of Redis, then none passes by itself', async () => {
    await redis.call('REPLICAOF', 'NO', 'ONE');
    await redis.set('text', 'x');
    const errors = [
      await rejectionOf(redis.call('NOSUCHCOMMAND')),
      await rejectionOf(redis.incr('text')),
      await rejectionOf(execAll(redis.multi().call('NOSUCHCOMMAND'))),
      new Error('READONLY in a message that is no reply of Redis'),
    ];
    expect(errors.map(isRedisPassingRefusal)).toEqual([false, false, false, false]);
    expect(errors.map(isTransientRedisError)).toEqual([false, false, false, false]);
  });
});
