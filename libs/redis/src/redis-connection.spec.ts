import Redis, { Cluster } from 'ioredis';
import { DEFAULT_REDIS_LIVENESS_TIMEOUT_MS } from '@app/config';
import { createRedisConnection, duplicateConnection, isCluster, masterNodes, RedisConnection } from './redis-connection';

// Building a Cluster client starts connecting at once, and ioredis keeps the process alive for
// about 2 s after an aborted connect; the Cluster side is checked against a real cluster in test/cluster.
describe('createRedisConnection', () => {
  const opened: RedisConnection[] = [];

  afterEach(() => {
    opened.splice(0).forEach((connection) => connection.disconnect());
  });

  const open = (...args: Parameters<typeof createRedisConnection>) => {
    const connection = createRedisConnection(...args);
    connection.on('error', () => undefined);
    opened.push(connection);
    return connection;
  };

  it('given no REDIS_CLUSTER_NODES, then it connects to REDIS_URL with the service options', () => {
    const connection = open({ REDIS_URL: 'redis://127.0.0.1:1/3' }, { name: 'intake-commands' });

    expect(connection).toBeInstanceOf(Redis);
    expect(isCluster(connection)).toBe(false);
    expect((connection as Redis).options).toMatchObject({
      port: 1,
      db: 3,
      connectionName: 'intake-commands',
      maxRetriesPerRequest: 20,
      enableAutoPipelining: true,
    });
  });

  it('given a blank REDIS_CLUSTER_NODES, then REDIS_URL still applies', () => {
    expect(open({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: ' ' }, { name: 'x' })).toBeInstanceOf(Redis);
  });

  it('given REDIS_LIVENESS_TIMEOUT_MS or none, then a connection waits that long (the default) for Redis to answer, and a blocking reader its block time longer', () => {
    const commands = open({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_LIVENESS_TIMEOUT_MS: 4_000 }, { name: 'x', lazyConnect: true });
    const reader = duplicateConnection(commands, { name: 'y', blocking: true, blockMs: 1_000, lazyConnect: true });
    opened.push(reader);

    expect((commands as Redis).options.socketTimeout).toBe(4_000);
    expect((reader as Redis).options.socketTimeout).toBe(5_000);
    expect((open({ REDIS_URL: 'redis://127.0.0.1:1' }, { name: 'z', lazyConnect: true }) as Redis).options.socketTimeout).toBe(
      DEFAULT_REDIS_LIVENESS_TIMEOUT_MS,
    );
  });

  it('given REDIS_CLUSTER_NODES, then every node connection waits REDIS_LIVENESS_TIMEOUT_MS, and a blocking duplicate its block time longer', () => {
    const commands = open({ REDIS_URL: '', REDIS_CLUSTER_NODES: '127.0.0.1:1', REDIS_LIVENESS_TIMEOUT_MS: 4_000 }, { name: 'x', lazyConnect: true }) as Cluster;
    const reader = duplicateConnection(commands, { name: 'y', blocking: true, blockMs: 1_000, lazyConnect: true }) as Cluster;
    opened.push(reader);

    expect(commands.options.redisOptions?.socketTimeout).toBe(4_000);
    expect(reader.options.redisOptions?.socketTimeout).toBe(5_000);
  });

  it('given a malformed REDIS_CLUSTER_NODES, then it throws naming the entry', () => {
    expect(() => createRedisConnection({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: '127.0.0.1' }, { name: 'x' })).toThrow(
      /entry 1 \("127\.0\.0\.1"\) is not host:port/,
    );
  });
});

describe('masterNodes', () => {
  it('given a single server, then it is its own only master', async () => {
    const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true });
    await expect(masterNodes(redis)).resolves.toEqual([redis]);
  });

  it('given a Cluster client that has ended, then it fails instead of waiting forever', async () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    cluster.disconnect();
    await expect(masterNodes(cluster)).rejects.toThrow(/has ended/);
  });
});
