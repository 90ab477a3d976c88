import { once } from 'node:events';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { ConfigError } from '@app/config';
import { redisTarget } from '@app/testing';
import { findFreePort } from './free-port';
import { createRedisConnection } from './redis-connection';
import { MINIMUM_REDIS_VERSION, RedisUnavailableError, waitForRedis } from './redis-startup';

/**
 * A server on loopback that speaks enough RESP to be taken for a Redis of `version`: PING, INFO
 * (the version, no cluster) and +OK to the rest (CLIENT SETNAME).
 */
async function redisOfVersion(version: string): Promise<{ url: string; server: Server }> {
  const answer = (command: string[]): string => {
    const name = command[0]?.toUpperCase();
    if (name === 'PING') return '+PONG\r\n';
    if (name !== 'INFO') return '+OK\r\n';
    const info = `# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n# Cluster\r\ncluster_enabled:0\r\n`;
    return `$${Buffer.byteLength(info)}\r\n${info}\r\n`;
  };
  const server = createServer((socket: Socket) => {
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('utf8');
      // Each request is an array of bulk strings: *<n>, then n times $<length> and the argument.
      for (;;) {
        const lines = pending.split('\r\n');
        const count = lines[0].startsWith('*') ? Number(lines[0].slice(1)) : NaN;
        if (!Number.isInteger(count) || lines.length < 2 + 2 * count) return;
        const command = Array.from({ length: count }, (_, index) => lines[2 + 2 * index]);
        pending = lines.slice(1 + 2 * count).join('\r\n');
        socket.write(answer(command));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

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

  it(`given a server older than Redis ${MINIMUM_REDIS_VERSION}, then it fails at once as a configuration error naming the version`, async () => {
    const { url, server } = await redisOfVersion('6.2.14');
    try {
      await expect(waitForRedis({ REDIS_URL: url }, { timeoutMs: 5_000, log: () => undefined })).rejects.toThrow(
        new ConfigError([`REDIS_URL: Redis at ${url} is Redis 6.2.14; the services need Redis ${MINIMUM_REDIS_VERSION} or newer`]),
      );
    } finally {
      server.close();
    }
  });

  it('given a server of Redis 7.0 or newer, then the version is no reason to stop', async () => {
    const { url, server } = await redisOfVersion('7.0.0');
    try {
      await waitForRedis({ REDIS_URL: url }, { timeoutMs: 5_000, log: () => undefined });
    } finally {
      server.close();
    }
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
