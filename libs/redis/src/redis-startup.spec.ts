import { once } from 'node:events';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { ReplyError } from 'ioredis';
import { ConfigError } from '@app/config';
import { redisTarget, testRedis } from '@app/testing';
import { redactUrl } from './embedded-redis';
import { findFreePort } from './free-port';
import { createRedisConnection } from './redis-connection';
import { asRedisUnavailable, MINIMUM_REDIS_VERSION, RedisUnavailableError, waitForRedis } from './redis-startup';

/** A RESP bulk string. */
function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

/**
 * A server on loopback that speaks enough RESP to be taken for a Redis of `version`: PING, INFO
 * (the version, no cluster), CLIENT INFO when `database` is given (the connection on it, whatever
 * was selected, as a proxy that drops SELECT would have it) and +OK to the rest (CLIENT SETNAME, SELECT).
 */
async function redisOfVersion(version: string, database?: number): Promise<{ url: string; server: Server }> {
  const answer = (command: string[]): string => {
    const name = command[0]?.toUpperCase();
    if (name === 'PING') return '+PONG\r\n';
    if (name === 'CLIENT' && command[1]?.toUpperCase() === 'INFO' && database !== undefined) {
      return bulk(`id=7 addr=127.0.0.1:50000 laddr=127.0.0.1:6379 fd=8 name=startup-check age=0 idle=0 flags=N db=${database} sub=0 psub=0 resp=2\n`);
    }
    if (name !== 'INFO') return '+OK\r\n';
    return bulk(`# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n# Cluster\r\ncluster_enabled:0\r\n`);
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
      new RedisUnavailableError(`cannot reach Redis at redis://***@127.0.0.1:${port} within 2 s (connect ECONNREFUSED 127.0.0.1:${port}); check REDIS_URL`),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    // Several reconnects failed meanwhile; one line tells of them.
    expect(lines).toEqual([`waiting for Redis at redis://***@127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}), up to 2 s`]);
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

  // ioredis reported the refused SELECT as an error event and went on in database 0: the service
  // logged "waiting for Redis … (ERR DB index is out of range)", then started on database 0's keys.
  it('given a REDIS_URL naming a database the server does not have, then it fails at once as a configuration error naming the database and the answer', async () => {
    const admin = testRedis();
    const [, databases] = (await admin.config('GET', 'databases')) as [string, string];
    await admin.quit();
    const url = new URL(redisTarget().REDIS_URL);
    url.pathname = `/${databases}`;
    const lines: string[] = [];

    await expect(waitForRedis({ REDIS_URL: url.toString() }, { timeoutMs: 10_000, log: (line) => lines.push(line) })).rejects.toThrow(
      new ConfigError([
        `REDIS_URL: Redis at ${redactUrl(url.toString())} has no database ${databases} (SELECT ${databases}: ERR DB index is out of range), ` +
          'and the connection would use database 0 instead; name a database the server has (redis.conf "databases", 16 by default: 0-15), or none for database 0',
      ]),
    );
    // The server answered: there is nothing to wait for.
    expect(lines).toEqual([]);
  });

  it('given a REDIS_URL naming a database the server has, then it resolves', async () => {
    const url = new URL(redisTarget().REDIS_URL);
    url.pathname = '/1';
    await waitForRedis({ REDIS_URL: url.toString() }, { timeoutMs: 5_000, log: () => undefined });
  });

  it('given a server that takes the SELECT but stays on another database, then CLIENT INFO tells, and it fails as a configuration error', async () => {
    const { url, server } = await redisOfVersion('7.2.4', 0);
    try {
      await expect(waitForRedis({ REDIS_URL: `${url}/3` }, { timeoutMs: 5_000, log: () => undefined })).rejects.toThrow(
        new ConfigError([
          `REDIS_URL: Redis at ${url}/3 has no database 3 (CLIENT INFO: db=0), and the connection would use database 0 instead; ` +
            'name a database the server has (redis.conf "databases", 16 by default: 0-15), or none for database 0',
        ]),
      );
      await waitForRedis({ REDIS_URL: `${url}/0` }, { timeoutMs: 5_000, log: () => undefined });
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

describe('asRedisUnavailable', () => {
  const target = { REDIS_URL: 'redis://:secret@127.0.0.1:1/0' };

  it.each([
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'NOAUTH Authentication required.',
    "READONLY You can't write against a read only replica.",
    'OOM command not allowed',
  ])('given Redis answered %s, then it is no unreachable Redis (no exit 69)', (reply) => {
    expect(asRedisUnavailable(new ReplyError(reply), target)).toBeUndefined();
  });

  it('given ioredis gave a command up before the start-up bound, then the line says after how long and why, not "within"', () => {
    const gaveUp = Object.assign(new Error('Reached the max retries per request limit (which is 20). Refer to "maxRetriesPerRequest" option for details.'), {
      name: 'MaxRetriesPerRequestError',
    });
    expect(asRedisUnavailable(gaveUp, target, { reason: 'connect ECONNREFUSED 127.0.0.1:1', afterMs: 38_200 })?.message).toBe(
      'cannot reach Redis at redis://***@127.0.0.1:1/0 after 38 s (connect ECONNREFUSED 127.0.0.1:1); check REDIS_URL',
    );
  });
});
