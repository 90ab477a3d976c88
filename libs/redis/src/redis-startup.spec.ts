import { once } from 'node:events';
import { ConfigError } from '@app/config';
import { redisTarget } from '@app/testing';
import { findFreePort } from './free-port';
import { createRedisConnection } from './redis-connection';
import { RedisUnavailableError, waitForRedis } from './redis-startup';

describe('waitForRedis', () => {
  it('given nothing listens at REDIS_URL, then it says once that it waits, and past the timeout fails naming REDIS_URL, the password masked', async () => {
    const port = await findFreePort('127.0.0.1');
    const lines: string[] = [];
    const started = Date.now();

    const waiting = waitForRedis({ REDIS_URL: `redis://:s3cret@127.0.0.1:${port}` }, { timeoutMs: 1_500, log: (line) => lines.push(line) });

    await expect(waiting).rejects.toThrow(
      new RedisUnavailableError(`cannot reach Redis at redis://:***@127.0.0.1:${port} within 2 s (connect ECONNREFUSED 127.0.0.1:${port}); check REDIS_URL`),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    // Several reconnects failed meanwhile; one line tells of them.
    expect(lines).toEqual([`waiting for Redis at redis://:***@127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}), up to 2 s`]);
  });

  it('given nothing listens at REDIS_CLUSTER_NODES, then the failure names REDIS_CLUSTER_NODES', async () => {
    const port = await findFreePort('127.0.0.1');

    await expect(
      waitForRedis({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: `127.0.0.1:${port}` }, { timeoutMs: 1_000, log: () => undefined }),
    ).rejects.toThrow(new RegExp(`^cannot reach the Redis Cluster at 127\\.0\\.0\\.1:${port} within 1 s \\(.+\\); check REDIS_CLUSTER_NODES$`));
  });

  it('given the Redis of this run, then it resolves without a word', async () => {
    const lines: string[] = [];
    await waitForRedis(redisTarget(), { timeoutMs: 5_000, log: (line) => lines.push(line) });
    expect(lines).toEqual([]);
  });

  it('given credentials the server refuses, then it fails at once as a configuration error: waiting would not help', async () => {
    const url = new URL(redisTarget().REDIS_URL);
    url.username = 'no-such-user';
    url.password = 'wrong';

    await expect(waitForRedis({ REDIS_URL: url.toString() }, { timeoutMs: 10_000, log: () => undefined })).rejects.toThrow(ConfigError);
  });
});

describe('createRedisConnection, while its server cannot be reached', () => {
  it('given failed reconnects, then it reports the outage once instead of every error', async () => {
    const port = await findFreePort('127.0.0.1');
    const reported: string[] = [];
    const connection = createRedisConnection({ REDIS_URL: `redis://127.0.0.1:${port}` }, { name: 'outage-spec', log: (line) => reported.push(line) });
    try {
      for (let error = 0; error < 3; error++) await once(connection, 'error');
    } finally {
      connection.disconnect();
    }

    expect(reported).toEqual([
      `Redis connection outage-spec failed: connect ECONNREFUSED 127.0.0.1:${port}; reconnecting (further errors are not logged until it is back)`,
    ]);
  });
});
