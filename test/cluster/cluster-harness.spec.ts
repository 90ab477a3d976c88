import Redis, { Cluster } from 'ioredis';
import { countKeysByPrefix, createRedisConnection, isCluster, masterNodes, RedisConnection } from '@app/redis';
import { deleteKeysByPrefix, redisTarget, testKeyPrefix, testRedisConnection } from '@app/testing';

const ALL_SLOTS = 16_384;

/** Slot ranges as the cluster reports them, keyed by the owning master's `host:port`. */
async function slotOwners(cluster: Cluster): Promise<Map<string, [number, number][]>> {
  const owners = new Map<string, [number, number][]>();
  for (const [start, end, master] of await cluster.cluster('SLOTS')) {
    const address = `${master[0]}:${master[1]}`;
    owners.set(address, [...(owners.get(address) ?? []), [start, end]]);
  }
  return owners;
}

function ownerOf(owners: Map<string, [number, number][]>, slot: number): string | undefined {
  return [...owners].find(([, ranges]) => ranges.some(([start, end]) => slot >= start && slot <= end))?.[0];
}

/** The master's own connection, which answers for its slots only (MOVED for the rest). */
async function ownerNode(cluster: Cluster, slot: number): Promise<Redis> {
  const owner = ownerOf(await slotOwners(cluster), slot);
  const node = (await masterNodes(cluster)).find((candidate) => `${candidate.options.host}:${candidate.options.port}` === owner);
  if (!node) throw new Error(`no connection to ${owner}, the master of slot ${slot}`);
  return node;
}

function asCluster(connection: RedisConnection): Cluster {
  if (!isCluster(connection)) throw new Error('expected a Cluster client: run this suite with `npm run test:cluster`');
  return connection;
}

describe('the Redis Cluster test harness', () => {
  let cluster: Cluster;
  let prefix: string;

  beforeAll(() => {
    cluster = asCluster(testRedisConnection('cluster-harness-spec'));
  });

  beforeEach(() => {
    prefix = testKeyPrefix('cluster-harness');
  });

  afterEach(async () => {
    await deleteKeysByPrefix(cluster, prefix);
  });

  afterAll(async () => {
    await cluster.quit();
  });

  it('runs 3 masters, the ones in REDIS_CLUSTER_NODES, that cover all 16384 slots', async () => {
    const masters = await masterNodes(cluster);
    const owners = await slotOwners(cluster);

    expect(masters).toHaveLength(3);
    expect([...owners.keys()].sort()).toEqual(redisTarget().REDIS_CLUSTER_NODES?.split(',').sort());
    const covered = [...owners.values()].flat().reduce((sum, [start, end]) => sum + end - start + 1, 0);
    expect(covered).toBe(ALL_SLOTS);
    for (const master of masters) expect(await master.call('CLUSTER', 'INFO')).toMatch(/cluster_state:ok/);
  });

  it('builds the client with the options the services use', () => {
    expect(cluster.options).toMatchObject({
      scaleReads: 'master',
      enableAutoPipelining: true,
      redisOptions: { connectionName: 'cluster-harness-spec', maxRetriesPerRequest: 20 },
    });
    expect(cluster.options.clusterRetryStrategy?.(10)).toBe(2_000);
    expect(cluster.options.clusterNodeRetryStrategy?.(1)).toBe(100);
  });

  it('places a key by its hash tag only, so {p0} and {p1} are different slots and may share a master', async () => {
    const owners = await slotOwners(cluster);
    const slotOf = async (key: string) => cluster.cluster('KEYSLOT', key);
    const p0 = await slotOf('{p0}');
    const p1 = await slotOf('{p1}');

    expect(await slotOf(`${prefix}{p0}:log`)).toBe(p0);
    expect(await slotOf(`${prefix}{p0}:mission:1`)).toBe(p0);
    // CRC16 is fixed and redis-cli splits the slots evenly, so this layout is the same on every run.
    expect([p0, p1]).toEqual([15882, 11819]);
    expect(ownerOf(owners, p0)).toBe(ownerOf(owners, p1));

    const tags = ['p0', 'p1', 'p2', 'p3'];
    const placed = new Set(await Promise.all(tags.map(async (tag) => ownerOf(owners, await slotOf(`{${tag}}`)))));
    expect(placed.size).toBe(3);

    const probe = `${prefix}{p2}:probe`;
    await cluster.set(probe, 'x');
    const holder = await ownerNode(cluster, await slotOf(probe));
    expect(await holder.get(probe)).toBe('x');
  });

  it('runs EVAL over keys of one slot, and refuses keys of two slots', async () => {
    const script = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return redis.call('MGET', KEYS[1], KEYS[2])";
    const crossSlot = [`${prefix}{p0}:a`, `${prefix}{p1}:b`];

    await expect(cluster.eval(script, 2, `${prefix}{p0}:a`, `${prefix}{p0}:b`, 'v')).resolves.toEqual(['v', 'v']);
    // The auto-pipelining Cluster client checks the slots itself, before anything is sent.
    await expect(cluster.eval(script, 2, ...crossSlot, 'v')).rejects.toThrow(/should belong to the same slot/);
    // The server refuses too: {p0} and {p1} share a master here, so this is CROSSSLOT, not MOVED.
    const owner = await ownerNode(cluster, await cluster.cluster('KEYSLOT', crossSlot[0]));
    await expect(owner.eval(script, 2, ...crossSlot, 'v')).rejects.toThrow(/CROSSSLOT/);
  });

  it('deleteKeysByPrefix deletes keys spread over every master, and nothing else', async () => {
    const keys = Array.from({ length: 60 }, (_, index) => `${prefix}{p${index}}:k`);
    const bystander = `${prefix.slice(0, -1)}-other:{p0}:k`;
    await Promise.all([...keys, bystander].map((key) => cluster.set(key, '1')));
    // Counted with the cursor followed to the end on each master: one SCAN call may return only part of a node's keys.
    const perMaster = async () => Promise.all((await masterNodes(cluster)).map((node) => countKeysByPrefix(node, prefix)));

    const before = await perMaster();
    expect(before.every((count) => count > 0)).toBe(true);
    expect(before.reduce((sum, count) => sum + count, 0)).toBe(keys.length);

    await expect(deleteKeysByPrefix(cluster, prefix)).resolves.toBe(keys.length);
    expect(await perMaster()).toEqual([0, 0, 0]);
    expect(await cluster.exists(bystander)).toBe(1);
    await cluster.unlink(bystander);
  });

  it('a blocking read holds its node connection, so it needs a client of its own', async () => {
    const stream = `${prefix}{p0}:stream`;
    await cluster.xgroup('CREATE', stream, 'g', '$', 'MKSTREAM');
    const blockMs = 600;
    const timeGet = async (client: Cluster) => {
      const started = Date.now();
      await client.get(`${prefix}{p0}:other`);
      return Date.now() - started;
    };

    const shared = cluster.xreadgroup('GROUP', 'g', 'c1', 'BLOCK', blockMs, 'STREAMS', stream, '>');
    const waitedShared = await timeGet(cluster);
    await shared;

    const reader = asCluster(createRedisConnection(redisTarget(), { name: 'cluster-harness-reader', blocking: true }));
    try {
      expect(reader.options).toMatchObject({ enableAutoPipelining: false, redisOptions: { maxRetriesPerRequest: null } });
      const separate = reader.xreadgroup('GROUP', 'g', 'c2', 'BLOCK', blockMs, 'STREAMS', stream, '>');
      const waitedSeparate = await timeGet(cluster);
      await separate;

      expect(waitedShared).toBeGreaterThanOrEqual(blockMs - 100);
      expect(waitedSeparate).toBeLessThan(blockMs / 2);
    } finally {
      await reader.quit();
    }
  });
});
