import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { countKeysByPrefix, createRedis, createRedisConnection, findFreePort } from '@app/redis';
import { testKeyPrefix } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { LocalCluster, startLocalCluster } from '../../scripts/redis-cluster';
import { oneMissionFixtures } from '../support/demo-fixtures';
import { runUntilExit } from '../support/run-until-exit';

/**
 * A service and the demo run against a private Redis Cluster, as processes from dist/ (built here
 * when stale): the lines a person reads and the exit code are the point.
 */
const ROOT = path.resolve(__dirname, '..', '..');

describe('the services and the demo on a Redis Cluster', () => {
  let cluster: LocalCluster;

  beforeAll(async () => {
    expect(ensureBuilt(ROOT)).toBe(0);
    cluster = await startLocalCluster();
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  /** A node that answers MOVED for `key`: one that a client for a single server cannot use for it. */
  async function nodeNotOwning(key: string): Promise<number> {
    for (const { port } of cluster.nodes) {
      const node = createRedis(`redis://127.0.0.1:${port}`, { name: 'cluster-launch-spec', log: () => undefined });
      try {
        const moved = await node.get(key).then(
          () => false,
          (error: Error) => error.message.startsWith('MOVED'),
        );
        if (moved) return port;
      } finally {
        node.disconnect();
      }
    }
    throw new Error(`every node owns the slot of ${key}`);
  }

  it('given REDIS_URL at a cluster node and no REDIS_CLUSTER_NODES, then a service stops with exit 78 and a line saying to set REDIS_CLUSTER_NODES', async () => {
    const prefix = testKeyPrefix('cluster-node-url');
    // The node that does not own the start's first key, where the service used to crash on MOVED.
    const port = await nodeNotOwning(`${prefix}config:log-partitions`);
    const env = { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_CLUSTER_NODES: '', KEY_PREFIX: prefix, PORT: String(await findFreePort()) };

    const run = await runUntilExit(process.execPath, ['dist/apps/orchestrator/src/main.js'], { cwd: ROOT, env, deadlineMs: 30_000 });

    expect(run).toEqual({
      code: 78,
      output: [
        'orchestrator: invalid configuration:',
        `  - REDIS_URL: Redis at redis://127.0.0.1:${port} is a Redis Cluster node; set REDIS_CLUSTER_NODES to the cluster's nodes (host:port,…) instead`,
      ],
    });
  }, 60_000);

  it('given REDIS_CLUSTER_NODES, then the demo names the cluster and deletes its keys there', async () => {
    const { dir, fixtures } = oneMissionFixtures('demo-cluster-');
    const { REDIS_URL: _unused, KEY_PREFIX: _own, ...rest } = process.env;
    const env = { ...rest, REDIS_CLUSTER_NODES: cluster.seeds, PORT: String(await findFreePort()), LOG_FORMAT: '' };
    const connection = createRedisConnection({ REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds }, { name: 'cluster-launch-spec' });
    try {
      const run = await runUntilExit(process.execPath, ['dist/scripts/demo.js', '--fixtures', fixtures, '--schedules', ''], {
        cwd: ROOT,
        env,
        deadlineMs: 120_000,
      });

      expect(run.code).toBe(0);
      // It used to name the Redis on 127.0.0.1:6379, which it never used, and delete nothing there.
      expect(run.output.join('\n')).toContain(`Redis Cluster at ${cluster.seeds}`);
      const deleted = run.output.map((line) => /Deleted (\d+) demo key\(s\) under (demo:\d+:)$/.exec(line)).find(Boolean);
      expect(Number(deleted?.[1])).toBeGreaterThan(0);
      expect(await countKeysByPrefix(connection, deleted?.[2] ?? 'demo:')).toBe(0);
    } finally {
      connection.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
