import { Cluster } from 'ioredis';
import { createRedisConnection, disconnectNow, isCluster, isReachable, sendCommand, settlesWhileReachable } from '@app/redis';
import { nextEvent, testKeyPrefix } from '@app/testing';
import { LocalCluster, startLocalCluster } from '../../scripts/redis-cluster';

/** The lowest REDIS_LIVENESS_TIMEOUT_MS allowed. */
const LIVENESS_MS = 1_000;

// A shutdown waits on Redis while the Cluster client reaches it, and the client reads and writes
// on masters only (scaleReads: master). Any node's error used to count as losing Redis, a
// replica's too: a replica that went away ended the executor's grace and skipped the drains. A
// cluster of this test's own, with a replica per master, one of which is shut down for good.
describe('settlesWhileReachable on a Cluster client whose replica goes away (a private cluster of 3 masters and 3 replicas)', () => {
  let cluster: LocalCluster;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startLocalCluster({ replicas: 1 });
    const connection = createRedisConnection(
      { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds, REDIS_LIVENESS_TIMEOUT_MS: LIVENESS_MS },
      { name: 'cluster-replica-loss', log: () => undefined },
    );
    if (!isCluster(connection)) throw new Error('expected a Cluster client');
    client = connection;
  }, 60_000);

  afterAll(async () => {
    if (client) disconnectNow(client);
    await cluster?.stop();
  });

  it('given a replica whose connection fails its reconnects for good, then the wait goes on: it answers true once the work is done', async () => {
    const probe = `${testKeyPrefix('cluster-replica-loss')}:probe`;
    await client.set(probe, '1');
    const [replica] = client.nodes('slave');
    if (!replica) throw new Error('the client knows of no replica');
    // A replica's connection is made at its first command (reads go to masters): this one is made now.
    await replica.ping();
    let finish = () => undefined as void;
    const work = new Promise<void>((resolve) => (finish = resolve));
    const outcome = settlesWhileReachable(client, work);

    const dropped = nextEvent(replica, 'reconnecting');
    await sendCommand(Number(replica.options.port), 'SHUTDOWN NOSAVE', 1_000);
    await dropped;
    // The second `reconnecting` follows the first reconnect's failure: that replica is lost for good.
    await nextEvent(replica, 'reconnecting');
    expect(isReachable(client)).toBe(true);
    let answered = false;
    void outcome.finally(() => (answered = true));
    await expect(client.get(probe)).resolves.toBe('1');
    expect(answered).toBe(false);
    finish();

    await expect(outcome).resolves.toBe(true);
  }, 30_000);
});
