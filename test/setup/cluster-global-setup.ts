import './path-aliases';
import { LocalCluster, startLocalCluster } from '../../scripts/redis-cluster';

/** Shared with cluster-global-teardown, which runs in the same process. */
export const TEST_CLUSTER_GLOBAL_KEY = '__brainTestRedisCluster';
export type GlobalWithTestCluster = typeof globalThis & { [TEST_CLUSTER_GLOBAL_KEY]?: LocalCluster };

/**
 * A private 3-master cluster for `npm run test:cluster`; workers are forked after this and inherit
 * the variables. REDIS_URL points at one of its nodes, so a client that is not cluster-aware gets
 * MOVED/CROSSSLOT errors here instead of quietly using the shared 127.0.0.1:6379. The services
 * run with LOG_PARTITIONS=4 (unless set), so the missions' keys spread over all three masters.
 */
export default async function clusterGlobalSetup(): Promise<void> {
  const cluster = await startLocalCluster({ log: (line) => process.stderr.write(`[test redis cluster] ${line}\n`) });
  (globalThis as GlobalWithTestCluster)[TEST_CLUSTER_GLOBAL_KEY] = cluster;
  process.env.REDIS_CLUSTER_NODES = cluster.seeds;
  process.env.REDIS_URL = `redis://${cluster.seeds.split(',')[0]}`;
  // Spread the missions over partitions whose hash tags land on every master.
  process.env.LOG_PARTITIONS ??= '4';
}
