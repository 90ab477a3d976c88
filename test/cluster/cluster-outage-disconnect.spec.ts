import { Cluster } from 'ioredis';
import {
  closeConnection,
  createRedisConnection,
  disconnectNow,
  findFreePort,
  isCluster,
  LOCAL_REDIS_HOST,
  RedisConnection,
  settlesWhileReachable,
  settlesWithin,
} from '@app/redis';
import { nextEvent, testKeyPrefix } from '@app/testing';
import { LocalCluster, startLocalCluster } from '../../scripts/redis-cluster';

/** The lowest REDIS_LIVENESS_TIMEOUT_MS allowed. */
const LIVENESS_MS = 1_000;
/** Well under the launcher's 10 s after SIGTERM, and under the ~35 s of a command's 20 retries. */
const PROMPTLY_MS = 3_000;

function asCluster(connection: RedisConnection): Cluster {
  if (!isCluster(connection)) throw new Error('expected a Cluster client');
  return connection;
}

// A Cluster client's node connections reconnect by themselves and keep the commands sent to them:
// disconnect() dropped the nodes from the client's pool without ending them, so a read under way
// when the cluster went away, or a command sent during the outage, never settled, and the client
// never ended. A cluster of this test's own, stopped under the clients: the suite's stays up.
describe('disconnectNow and closeConnection on a Cluster client while the cluster is away (a private 3-master cluster, stopped)', () => {
  let cluster: LocalCluster;
  const clients: Cluster[] = [];
  const connect = (name: string, blocking: boolean) => {
    const client = asCluster(
      createRedisConnection(
        { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds, REDIS_LIVENESS_TIMEOUT_MS: LIVENESS_MS },
        { name, blocking, log: () => undefined },
      ),
    );
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    cluster = await startLocalCluster();
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) disconnectNow(client);
    await cluster?.stop();
  });

  it('given a ready cluster, then closeConnection quits and the client ends', async () => {
    const client = connect('cluster-outage-quit', false);
    await client.set(`${testKeyPrefix('cluster-outage')}{p0}:probe`, '1');
    const ended = nextEvent(client, 'end');

    await closeConnection(client);

    await ended;
    expect(client.status).toBe('end');
  });

  it('given a blocking read under way and a command sent while every node is away, then disconnectNow fails both at once and the client ends', async () => {
    const stream = `${testKeyPrefix('cluster-outage')}{p0}:stream`;
    const reader = connect('cluster-outage-reader', true);
    const commands = connect('cluster-outage-commands', false);
    await reader.xgroup('CREATE', stream, 'g', '$', 'MKSTREAM');
    await commands.ping();
    const read = reader.xreadgroup('GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', stream, '>');
    const readOutcome = read.then(
      () => 'answered',
      (error: Error) => error.message,
    );
    // Between two reconnect attempts, where a node's disconnect() cancels the next one and fails nothing.
    const lost = [reader, commands].flatMap((client) =>
      client
        .nodes()
        .filter((node) => node.status === 'ready')
        .map((node) => nextEvent(node, 'reconnecting')),
    );

    await cluster.stop();
    await Promise.all(lost);
    const sentDuring = commands.get(`${stream}:other`);
    const sentDuringOutcome = sentDuring.then(
      () => 'answered',
      (error: Error) => error.message,
    );
    // The clients say ready still; their nodes do not, and that counts as the loss.
    await expect(settlesWhileReachable(reader, read)).resolves.toBe(false);
    await expect(settlesWhileReachable(commands, sentDuring)).resolves.toBe(false);

    const ended = [nextEvent(reader, 'end'), nextEvent(commands, 'end')];
    const started = Date.now();
    disconnectNow(reader);
    await closeConnection(commands);

    expect(await settlesWithin(Promise.all([readOutcome, sentDuringOutcome, ...ended]), PROMPTLY_MS)).toBe(true);
    expect(Date.now() - started).toBeLessThan(PROMPTLY_MS);
    expect(await readOutcome).toBe('Connection is closed.');
    expect(await sentDuringOutcome).not.toBe('answered');
    expect([reader.status, commands.status]).toEqual(['end', 'end']);
  }, 30_000);

  // A client none of whose seeds ever answered has no node between two attempts to connect: its
  // disconnect() ended nothing, and the commands it held (its offline queue, or the auto-pipelined
  // ones waiting for a slot map) waited for ever, a stopping service with them.
  it.each([
    ['blocking', true],
    ['auto-pipelining', false],
  ])(
    'given a %s client that never connected (no node answers its seeds), then disconnectNow fails the commands it holds at once and the client ends',
    async (_kind, blocking) => {
      const port = await findFreePort(LOCAL_REDIS_HOST);
      const client = asCluster(
        createRedisConnection(
          { REDIS_URL: '', REDIS_CLUSTER_NODES: `${LOCAL_REDIS_HOST}:${port}`, REDIS_LIVENESS_TIMEOUT_MS: LIVENESS_MS },
          { name: 'cluster-never-connected', blocking, log: () => undefined },
        ),
      );
      clients.push(client);
      await nextEvent(client, 'reconnecting');
      expect(client.nodes()).toEqual([]);
      const held = client.get(`${testKeyPrefix('cluster-outage')}:never`).then(
        () => 'answered',
        (error: Error) => error.message,
      );
      const ended = nextEvent(client, 'end');

      disconnectNow(client);

      expect(await settlesWithin(Promise.all([held, ended]), PROMPTLY_MS)).toBe(true);
      expect(await held).toBe('None of startup nodes is available');
      expect(client.status).toBe('end');
    },
  );
});
