import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Redis, { Cluster } from 'ioredis';
import request from 'supertest';
import { createRedisConnection, disconnectNow, isCluster, isReachable, LOCAL_REDIS_HOST, LuaScript, RedisConnection, settlesWithin } from '@app/redis';
import { nextEvent, testKeyPrefix, waitFor } from '@app/testing';
import { LocalCluster, LocalClusterNode, startLocalCluster } from '../../scripts/redis-cluster';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';
import { queueInvariantViolations } from '../support/queue-invariant';

/** cluster-node-timeout of the private cluster: a killed master's replica is promoted a few seconds later. */
const NODE_TIMEOUT_MS = 3_000;
/**
 * The node timeout, the election, and a reload of the slot map at the dead master's next reconnect
 * (2 s apart at most), with room for a loaded machine; well under the ~35 s after which a command's
 * 20 reconnects used to fail it, and the old code never got there for a blocking read.
 */
const RECOVERED_WITHIN_MS = 20_000;
/** Well under the launcher's 10 s after SIGTERM before it kills a service that has not exited. */
const CLOSED_WITHIN_MS = 8_000;

function asCluster(connection: RedisConnection): Cluster {
  if (!isCluster(connection)) throw new Error('expected a Cluster client');
  return connection;
}

/** The node serving `key`'s slot as master, as the client's slot map says. */
async function masterOf(client: Cluster, cluster: LocalCluster, key: string): Promise<LocalClusterNode> {
  const [address] = client.slots[await client.cluster('KEYSLOT', key)];
  const node = cluster.nodes.find((candidate) => address === `127.0.0.1:${candidate.port}`);
  if (!node) throw new Error(`no node of the private cluster at ${address}`);
  return node;
}

/** The client's connection to one node. */
function connectionTo(client: Cluster, node: LocalClusterNode): Redis {
  const connection = client.nodes().find((candidate) => candidate.options.port === node.port);
  if (!connection) throw new Error(`the client has no connection to port ${node.port}`);
  return connection;
}

/** Two keys whose slots differ and have one master. */
async function twoKeysOfOneMaster(client: Cluster, prefix: string): Promise<[string, string]> {
  const firstKeyOf = new Map<string, string>();
  for (let tag = 0; ; tag++) {
    const key = `${prefix}{s${tag}}`;
    const [master] = client.slots[await client.cluster('KEYSLOT', key)];
    const first = firstKeyOf.get(master);
    if (first) return [first, key];
    firstKeyOf.set(master, key);
  }
}

/** How a command ended: its value, or the error's name and message. */
function outcomeOf(command: Promise<unknown>): Promise<unknown> {
  return command.then(
    (value) => value,
    (error: Error) => `${error.name}: ${error.message}`,
  );
}

// A master killed with a replica to take over: once the replica is promoted, the client must send
// the master's slots there. Its node connections reconnect by themselves, so the dead master's
// never closed for good and ioredis never reloaded the slot map: every command for those slots
// failed after its 20 reconnects (~40 s), and a blocking read, which never gives up, waited for as
// long as the dead node stayed down. A reload that did drop the dead node left the commands queued
// for it unsettled for ever.
describe('a Cluster client when a master is killed and its replica promoted (a private cluster of 3 masters and 3 replicas)', () => {
  let cluster: LocalCluster;
  const clients: Cluster[] = [];
  const connect = (name: string, blocking: boolean) => {
    const client = asCluster(
      createRedisConnection({ REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds, REDIS_LIVENESS_TIMEOUT_MS: 1_000 }, { name, blocking, log: () => undefined }),
    );
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    cluster = await startLocalCluster({ replicas: 1, nodeTimeoutMs: NODE_TIMEOUT_MS });
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) disconnectNow(client);
    await cluster?.stop();
  });

  // A graceful CLUSTER FAILOVER leaves the client's slot map stale: the demoted master answers
  // MOVED. ioredis retries an auto-pipelined batch only when all its commands got the same error,
  // and two scripts for two slots of one master get two MOVED replies (other slot numbers): the
  // orchestrator's lease script failed so ("looking for work failed"), its lease left to expire.
  it('given scripts for two slots of a master, sent together after a graceful failover of that master, then both are redirected to the new master', async () => {
    const prefix = testKeyPrefix('cluster-failover-scripts');
    const client = connect('cluster-failover-scripts', false);
    const dir = await mkdtemp(path.join(tmpdir(), 'cluster-failover-lua-'));
    await writeFile(path.join(dir, 'incr-1.lua'), "return redis.call('INCR', KEYS[1])\n");
    const script = new LuaScript(dir, 'incr-1');
    await rm(dir, { recursive: true });
    const [first, second] = await twoKeysOfOneMaster(client, prefix);
    expect(await Promise.all([script.run(client, [first], []), script.run(client, [second], [])])).toEqual([1, 1]);
    const [master, replica] = client.slots[await client.cluster('KEYSLOT', first)];

    const promoted = new Redis(Number(replica.split(':')[1]), LOCAL_REDIS_HOST);
    const demoted = new Redis(Number(master.split(':')[1]), LOCAL_REDIS_HOST);
    try {
      await promoted.cluster('FAILOVER');
      await waitFor(async () => (await demoted.role())[0] === 'slave' && (await promoted.role())[0] === 'master', {
        timeoutMs: RECOVERED_WITHIN_MS,
        what: 'the replica to take over',
      });
    } finally {
      promoted.disconnect();
      demoted.disconnect();
    }

    // In one tick: one auto-pipelined batch to the demoted master.
    const runs = [script.run(client, [first], []), script.run(client, [second], [])].map(outcomeOf);
    expect(await Promise.all(runs)).toEqual([2, 2]);
  });

  it('given commands and a blocking read for its slots, sent before and during the failover, then the promoted replica answers them within seconds and the client is reachable again', async () => {
    const prefix = testKeyPrefix('cluster-failover');
    const key = `${prefix}{f}:probe`;
    const stream = `${prefix}{f}:stream`;
    const commands = connect('cluster-failover-commands', false);
    const reader = connect('cluster-failover-reader', true);
    await commands.set(key, 'before');
    await reader.xgroup('CREATE', stream, 'g', '$', 'MKSTREAM');
    const dead = await masterOf(commands, cluster, key);
    // Replicated before the kill (WAIT counts the writes of the connection it is sent on): what the promoted replica must hold.
    for (const client of [commands, reader]) expect(await connectionTo(client, dead).wait(1, 5_000)).toBe(1);
    const read = outcomeOf(reader.xreadgroup('GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', stream, '>'));
    const dropped = nextEvent(connectionTo(commands, dead), 'reconnecting');

    process.kill(dead.pid, 'SIGKILL');
    await dropped;
    const during = [outcomeOf(commands.get(key)), outcomeOf(commands.incr(`${prefix}{f}:counter`))];

    expect(await settlesWithin(Promise.all(during), RECOVERED_WITHIN_MS)).toBe(true);
    expect(await Promise.all(during)).toEqual(['before', 1]);
    expect(commands.nodes('master').map((node) => node.options.port)).not.toContain(dead.port);
    expect(isReachable(commands)).toBe(true);
    // The read waited on the dead node; it is sent again to the promoted replica, and gets what comes next.
    await commands.xadd(stream, '*', 'n', '1');
    expect(await settlesWithin(read, RECOVERED_WITHIN_MS)).toBe(true);
    expect(await read).toEqual([[stream, [[expect.any(String), ['n', '1']]]]]);
  }, 60_000);
});

const mission = (i: number) => ({
  type: (['guest_support', 'pricing', 'maintenance'] as const)[i % 3],
  title: `Failover mission ${i}`,
  description: 'Generated by the cluster failover test.',
  priority: (['low', 'normal', 'high', 'critical'] as const)[i % 4],
  payload: { language: i % 2 ? 'de' : 'en', room: String(100 + i) },
});

// The services used to keep sending the killed master's slots to it: their commands failed every
// ~40 s until the dead node came back, readiness said Redis was unreachable, the missions of its
// partitions stalled, and a sweep awaiting a command queued for the dead node never ended (leased
// missions stayed leased; a shutdown waited for the sweep until the launcher's kill).
describe('the four services when a master is killed during a run and its replica promoted (a private cluster of 3 masters and 3 replicas)', () => {
  let cluster: LocalCluster;
  let system: InProcessSystem | undefined;

  beforeAll(async () => {
    cluster = await startLocalCluster({ replicas: 1, nodeTimeoutMs: NODE_TIMEOUT_MS });
    system = await startInProcessSystem('cluster-failover', {
      REDIS_CLUSTER_NODES: cluster.seeds,
      LOG_PARTITIONS: '4',
      REDIS_LIVENESS_TIMEOUT_MS: '1000',
      LEASE_MS: '2000',
      STREAM_CLAIM_IDLE_MS: '2000',
      MOCK_LLM_LATENCY_MS: '300',
    });
  }, 90_000);

  afterAll(async () => {
    try {
      await system?.close();
    } finally {
      await cluster?.stop();
    }
  }, 60_000);

  it('then every mission, created before and during the failover, finishes exactly once, readiness recovers and the services shut down promptly', async () => {
    const running = system as InProcessSystem;
    // A create refused while the failover is under way (503, Retry-After) is retried with its key, as a client would.
    const create = (i: number) =>
      waitFor(
        async () => {
          const response = await running.api.post('/api/missions').set('Idempotency-Key', `failover-${i}`).send(mission(i));
          return [200, 201].includes(response.status) && (response.body as { id: string }).id;
        },
        { timeoutMs: RECOVERED_WITHIN_MS * 2, intervalMs: 200, what: `mission ${i} to be created` },
      );
    const succeeded = async (ids: string[]) =>
      (await Promise.all(ids.map((id) => running.redis.hget(running.keys.mission(id), 'st')))).filter((status) => status === 'succeeded').length;
    // Queued with every agent paused, so that the run is under way, not over, when the master dies.
    const agents = ((await running.api.get('/api/agents').expect(200)).body as { id: string }[]).map((agent) => agent.id);
    const setStatus = (status: 'paused' | 'online') => Promise.all(agents.map((id) => running.api.patch(`/api/agents/${id}`).send({ status }).expect(200)));
    await setStatus('paused');
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await create(i));
    await setStatus('online');
    // Killed mid-run: some missions done, the rest queued, leased or with an agent.
    await waitFor(async () => (await succeeded(ids)) > 0, { timeoutMs: 30_000, what: 'a first mission to succeed' });
    const redis = asCluster(running.redis);
    const dead = await masterOf(redis, cluster, running.keys.partitions[0].log);

    expect(await succeeded(ids)).toBeLessThan(ids.length);

    process.kill(dead.pid, 'SIGKILL');
    for (let i = 30; i < 45; i++) ids.push(await create(i));

    await waitFor(async () => (await succeeded(ids)) === ids.length, { timeoutMs: 60_000, intervalMs: 200, what: `all ${ids.length} missions to succeed` });
    expect(await queueInvariantViolations(running.redis, running.keys)).toEqual([]);
    for (const id of ids) {
      const events = await running.store.history(id);
      expect({ id, passed: events.filter((event) => event.type === 'MissionEvaluated' && event.data.passed).length }).toEqual({ id, passed: 1 });
      expect(events.map((event) => event.version)).toEqual(events.map((_, index) => index + 1));
    }
    const ready = async () =>
      (await Promise.all(running.apps.map((app) => request(app.getHttpServer()).get('/health/ready')))).every((response) => response.status === 200);
    await waitFor(ready, { timeoutMs: RECOVERED_WITHIN_MS, intervalMs: 200, what: 'every service to be ready again' });
    expect(redis.nodes('master').map((node) => node.options.port)).not.toContain(dead.port);

    const closing = running.close();
    system = undefined;
    expect(await settlesWithin(closing, CLOSED_WITHIN_MS)).toBe(true);
    await closing;
  }, 180_000);
});
