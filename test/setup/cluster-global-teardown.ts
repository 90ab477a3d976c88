import { GlobalWithTestCluster, TEST_CLUSTER_GLOBAL_KEY } from './cluster-global-setup';

export default async function clusterGlobalTeardown(): Promise<void> {
  const holder = globalThis as GlobalWithTestCluster;
  const cluster = holder[TEST_CLUSTER_GLOBAL_KEY];
  delete holder[TEST_CLUSTER_GLOBAL_KEY];
  await cluster?.stop();
}
