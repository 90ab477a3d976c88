import { PinoLogger } from 'nestjs-pino';
import { AgentRegistry, AgentSlots, AgentSnapshot } from '@app/agents';
import { loadEnvironment } from '@app/config';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { decideCreate, decideOverdue, Mission, MissionCreateDto } from '@app/mission';
import { LeasedMission, LeaseOptions, ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { MetricsRegistry } from '@app/runtime';
import { deleteKeysByPrefix, testKeyPrefix, TEST_QUEUE_ORDER, testRedis } from '@app/testing';
import { ServiceTracer } from '@app/tracing';
import { DispatchMetrics } from './dispatch-metrics';
import { Dispatcher } from './dispatcher.service';

const plumbing: MissionCreateDto = {
  type: 'maintenance',
  title: 'Leaking tap in 112',
  description: '',
  priority: 'normal',
  requiredSkills: ['plumbing'],
  payload: {},
};
const plumber = (id: string, capacity: number) => ({
  id,
  name: id,
  skills: ['plumbing'],
  capacity,
  credits: 100,
  model: 'mock',
  systemPrompt: 'You fix taps.',
});

/** A queue whose next lease answers with the given (stale) states, as a paused orchestrator's would. */
class StaleLeaseQueue extends ReadyQueue {
  next: LeasedMission[] | null = null;
  /** How long before the lease its deadline's clock starts: a lease that runs out before its assignment, as after a pause longer than LEASE_MS. */
  clockBehindMs = 0;
  /** Run once after the next lease, before the dispatcher places what it leased: a change by hand made meanwhile. */
  afterLease: (() => Promise<unknown>) | null = null;

  override async lease(partition: number, max: number, leaseMs: number, leaseId: string, options?: LeaseOptions): Promise<LeasedMission[]> {
    const stale = this.next;
    this.next = null;
    // Redis's clock, as in production, unless a test starts the lease in the past.
    const startedAt = this.clockBehindMs === 0 ? {} : { now: Date.now() - this.clockBehindMs };
    const leased = stale ?? (await super.lease(partition, max, leaseMs, leaseId, { ...options, ...startedAt }));
    const afterLease = this.afterLease;
    this.afterLease = null;
    await afterLease?.();
    return leased;
  }
}

/** A registry whose snapshot shows load as it was a moment ago, before another orchestrator took a slot. */
class LaggingRegistry extends AgentRegistry {
  lagging: Record<string, number> = {};

  override async snapshot(): Promise<AgentSnapshot[]> {
    return (await super.snapshot()).map((agent) => ({ ...agent, load: this.lagging[agent.id] ?? agent.load }));
  }
}

describe('Dispatcher (real Redis, no services)', () => {
  const redis = testRedis();
  const prefixes: string[] = [];

  function setup(partitions = 1) {
    const prefix = testKeyPrefix('dispatcher');
    prefixes.push(prefix);
    const keys = new KeyLayout(prefix, partitions);
    const store = new MissionStore(redis, keys);
    const queue = new StaleLeaseQueue(redis, keys, TEST_QUEUE_ORDER);
    const registry = new LaggingRegistry(redis, keys);
    const metrics = new DispatchMetrics(new MetricsRegistry('orchestrator'));
    const logger = new PinoLogger({ pinoHttp: { level: 'silent' } });
    const dispatcher = new Dispatcher(
      registry,
      new AgentSlots(redis, keys),
      store,
      new MissionPipeline(store, queue),
      queue,
      keys,
      loadEnvironment({ KEY_PREFIX: prefix, LOG_PARTITIONS: String(partitions) }),
      metrics,
      logger,
      redis,
      new ServiceTracer(null),
    );
    const create = async (id: string): Promise<Mission> => {
      const result = await new MissionPipeline(store, queue).append(id, null, decideCreate(plumbing), { actor: 'test' });
      if (result.code !== AppendCode.Ok) throw new Error(`create ${id} failed`);
      return result.mission;
    };
    const load = async (agentId: string) => Number((await redis.hget(keys.agentLoad, agentId)) ?? 0);
    /** An id `name-<n>` that falls in `partition`. */
    const idIn = (partition: number, name: string) => {
      for (let i = 0; ; i++) if (keys.partitionOf(`${name}-${i}`) === partition) return `${name}-${i}`;
    };
    return { keys, store, queue, registry, metrics, logger, dispatcher, create, load, idIn };
  }

  /** A plumber with one slot, full, though the snapshot shows it free: whatever is leased for it is handed back. */
  const fullThoughShownFree = async (keys: KeyLayout, registry: LaggingRegistry) => {
    await registry.register(plumber('agent-pia', 1), 'test');
    await redis.hset(keys.agentLoad, 'agent-pia', 1);
    registry.lagging = { 'agent-pia': 0 };
  };

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a queued mission and a free plumber, when it looks for work, then the mission is assigned to the plumber and the lease is gone', async () => {
    const { keys, store, registry, dispatcher, create, load } = setup();
    await registry.register(plumber('agent-pia', 2), 'test');
    const mission = await create('m-1');

    await dispatcher.lookForWork();

    expect(await store.load(mission.id)).toMatchObject({ status: 'assigned', attempts: 1, assignedAgentId: 'agent-pia' });
    expect(await load('agent-pia')).toBe(1);
    expect(await redis.zcard(keys.partitions[0].leased)).toBe(0);
  });

  it('given two missions and one free slot, when it looks, then one is assigned and the other is back in the ready queue at once', async () => {
    const { keys, store, queue, registry, dispatcher, create } = setup();
    await registry.register(plumber('agent-pia', 1), 'test');
    await create('m-1');
    await create('m-2');
    // The snapshot still shows two free slots, so both are leased; only one claim can succeed.
    registry.lagging = { 'agent-pia': -1 };

    await dispatcher.lookForWork();

    const statuses = await Promise.all(['m-1', 'm-2'].map(async (id) => (await store.load(id))?.status));
    expect(statuses.sort()).toEqual(['assigned', 'queued']);
    expect(await queue.readyIds()).toHaveLength(1);
    expect(await redis.zcard(keys.partitions[0].leased)).toBe(0);
    // Handed back without a ready-work message, which would send this orchestrator straight back to it.
    const messages = await redis.xrange(keys.partitions[0].stream('orchestrator'), '-', '+');
    expect(messages.filter(([, fields]) => fields.includes('{"returned":1}'))).toEqual([]);
  });

  it('given a low mission in partition 0 and a critical one in partition 1 and one free slot, when it looks, then the critical one gets it', async () => {
    const { store, queue, registry, dispatcher, idIn } = setup(2);
    await registry.register(plumber('agent-pia', 1), 'test');
    const pipeline = new MissionPipeline(store, queue);
    const low = idIn(0, 'low');
    const critical = idIn(1, 'critical');
    await pipeline.append(low, null, decideCreate({ ...plumbing, priority: 'low' }), { actor: 'test' });
    await pipeline.append(critical, null, decideCreate({ ...plumbing, priority: 'critical' }), { actor: 'test' });

    await dispatcher.lookForWork();

    expect(await store.load(critical)).toMatchObject({ status: 'assigned', assignedAgentId: 'agent-pia' });
    expect(await store.load(low)).toMatchObject({ status: 'queued' });
  });

  it('given an early mission in partition 0 marked overdue just now and a later one in partition 1 and one free slot, when it looks, then the early one gets it', async () => {
    const { store, queue, registry, dispatcher, idIn } = setup(2);
    await registry.register(plumber('agent-pia', 1), 'test');
    const pipeline = new MissionPipeline(store, queue);
    const hours = (n: number) => new Date(Date.now() - n * 3_600_000);
    const early = idIn(0, 'early');
    const later = idIn(1, 'later');
    await pipeline.append(early, null, decideCreate({ ...plumbing, deadline: hours(8).toISOString() }, hours(10)), { actor: 'test', now: hours(10) });
    await pipeline.append(later, null, decideCreate(plumbing, hours(5)), { actor: 'test', now: hours(5) });
    // The deadline check marks the early one now: its updatedAt is now, its place in the queue is still 10 hours ago's.
    await pipeline.transition(early, (m) => decideOverdue(m, new Date()), { actor: 'test' });

    await dispatcher.lookForWork();

    expect(await store.load(early)).toMatchObject({ status: 'assigned', assignedAgentId: 'agent-pia' });
    expect(await store.load(later)).toMatchObject({ status: 'queued' });
  });

  it('given the best agent filled up since the snapshot, when it claims, then the mission is planned again on the next agent in the same look', async () => {
    const { store, registry, dispatcher, create, load } = setup();
    await registry.register(plumber('agent-ada', 5), 'test');
    await registry.register(plumber('agent-bo', 1), 'test');
    // Another orchestrator filled agent-ada; this one's snapshot shows her empty (the better ratio).
    await redis.hset(store.keys.agentLoad, 'agent-ada', 5);
    registry.lagging = { 'agent-ada': 0 };
    await create('m-1');

    await dispatcher.lookForWork();

    expect(await store.load('m-1')).toMatchObject({ status: 'assigned', assignedAgentId: 'agent-bo' });
    expect(await load('agent-ada')).toBe(5);
    expect(await load('agent-bo')).toBe(1);
  });

  it('given a paused orchestrator whose lease is stale (the attempt ran and ended meanwhile), when it places it, then the claim is refused, counted and nothing changes', async () => {
    const { keys, store, queue, registry, metrics, dispatcher, create, load } = setup();
    await registry.register(plumber('agent-pia', 2), 'test');
    const queued = await create('m-1');
    await dispatcher.lookForWork();
    const assigned = await store.load('m-1');
    // Attempt 1 ends: the slot goes back and the attempt is marked ended.
    await new AgentSlots(redis, keys).endAttempt({ agentId: 'agent-pia', missionId: 'm-1', attempt: 1 });
    expect(await load('agent-pia')).toBe(0);

    queue.next = [{ mission: queued, readyScore: 0 }];
    await dispatcher.lookForWork();

    expect(await metrics.claimsRefused.get()).toMatchObject({ values: [expect.objectContaining({ value: 1 })] });
    expect(await store.load('m-1')).toEqual(assigned);
    expect(await load('agent-pia')).toBe(0);
  });

  it('given a mission whose assignment the log refuses and one whose agent filled up since the snapshot, when it looks, then the second is placed on the slot the first gave back, in the same look', async () => {
    const { store, queue, registry, dispatcher, create, load, idIn } = setup(2);
    await registry.register(plumber('agent-ada', 1), 'test');
    await registry.register(plumber('agent-bo', 5), 'test');
    // Another orchestrator filled agent-bo; this one's snapshot shows him empty.
    await redis.hset(store.keys.agentLoad, 'agent-bo', 5);
    registry.lagging = { 'agent-bo': 0 };
    const refused = await create(idIn(0, 'refused'));
    const waiting = await create(idIn(1, 'waiting'));
    // Partition 0's lease answers with a mission it did not lease: its assignment is refused (lease lost) after agent-ada's slot was claimed for it.
    queue.next = [{ mission: refused, readyScore: 0 }];

    await dispatcher.lookForWork();

    // The slot used to be given back in Redis but not in the look, where agent-ada stayed full to the next claim round: the second was handed back.
    expect(await store.load(waiting.id)).toMatchObject({ status: 'assigned', assignedAgentId: 'agent-ada' });
    expect(await store.load(refused.id)).toMatchObject({ status: 'queued' });
    expect(await load('agent-ada')).toBe(1);
    expect(await load('agent-bo')).toBe(5);
  });

  it('given leases that run out before their assignment (a pause longer than LEASE_MS), when it looks, then the missions are handed back at once and the look stops', async () => {
    const { keys, queue, registry, dispatcher, create, load } = setup();
    await registry.register(plumber('agent-pia', 2), 'test');
    await create('m-1');
    await create('m-2');
    queue.clockBehindMs = 60_000;

    await dispatcher.lookForWork();

    // Each assignment failed as LeaseLost and counted as placed: the missions stayed leased (until
    // the intake's expiry) and the look leased again and again while the ready queue drained.
    expect((await queue.readyIds()).sort()).toEqual(['m-1', 'm-2']);
    expect(await redis.zcard(keys.partitions[0].leased)).toBe(0);
    expect(await load('agent-pia')).toBe(0);
  });
  it('given a queued mission whose state cannot be read, when it looks twice, then it is named in one warn and stays leased', async () => {
    const { keys, registry, logger, dispatcher, create } = setup();
    const warn = jest.spyOn(logger, 'warn');
    await registry.register(plumber('agent-pia', 2), 'test');
    await create('m-broken');
    await redis.hset(keys.mission('m-broken'), 's', 'not json');

    await dispatcher.lookForWork();
    await dispatcher.lookForWork();

    expect(passedOverWarns(warn)).toEqual([expect.stringMatching(/^the dispatcher passes over mission m-broken: /)]);
    expect(await redis.zrange(keys.partitions[0].leased, 0, -1)).toEqual(['m-broken']);
  });

  // The lease failed with WRONGTYPE: every look failed, in every partition, and nothing was placed.
  it('given a queued mission whose hash was replaced by another type ahead of others, when it looks twice, then the others are placed, it is named in one warn and stays ready', async () => {
    const { keys, store, queue, registry, logger, dispatcher, create, idIn } = setup(2);
    const warn = jest.spyOn(logger, 'warn');
    await registry.register(plumber('agent-pia', 2), 'test');
    const replaced = idIn(0, 'm-a-replaced');
    const sameQueue = idIn(0, 'm-b-after');
    const otherQueue = idIn(1, 'm-other');
    for (const id of [replaced, sameQueue, otherQueue]) await create(id);
    await redis.multi().del(keys.mission(replaced)).set(keys.mission(replaced), 'replaced by hand').exec();

    await dispatcher.lookForWork();
    await dispatcher.lookForWork();

    expect(await store.load(sameQueue)).toMatchObject({ status: 'assigned', assignedAgentId: 'agent-pia' });
    expect(await store.load(otherQueue)).toMatchObject({ status: 'assigned', assignedAgentId: 'agent-pia' });
    expect(passedOverWarns(warn)).toEqual([
      `the dispatcher passes over mission ${replaced}: its key ${keys.mission(replaced)} holds another type of value than a hash, on every run until it is mended (run replay verify, then replay rebuild)`,
    ]);
    expect(await queue.readyIds()).toEqual([replaced]);
    expect(await redis.zcard(keys.partitions[0].leased)).toBe(0);
  });

  // Read as a mission with no level, skill set or state, it was leased, and stayed in its skill
  // set's queue and counted: every look leased it again, and its lease never ran out.
  it('given a queued mission whose hash was deleted ahead of another, when it looks twice, then the other is placed, it is named once as having no read model and stays ready', async () => {
    const { keys, store, queue, registry, logger, dispatcher, create } = setup();
    const warn = jest.spyOn(logger, 'warn');
    await registry.register(plumber('agent-pia', 2), 'test');
    await create('m-a-deleted');
    await create('m-b-after');
    await redis.del(keys.mission('m-a-deleted'));

    await dispatcher.lookForWork();
    await dispatcher.lookForWork();

    expect(await store.load('m-b-after')).toMatchObject({ status: 'assigned', assignedAgentId: 'agent-pia' });
    expect(passedOverWarns(warn)).toEqual([
      `the dispatcher passes over mission m-a-deleted: it has no read model (its key ${keys.mission('m-a-deleted')} holds no state nor queue fields), on every run until it is mended (run replay verify, then replay rebuild)`,
    ]);
    expect(await queue.readyIds()).toEqual(['m-a-deleted']);
    expect(await redis.zcard(keys.partitions[0].leased)).toBe(0);
    expect(await redis.hgetall(keys.partitions[0].counters)).toMatchObject({ dequeued: '1' });
  });

  // Named through PassedOverMissions, its line said "on every run until it is mended": the mission
  // had left the queue, and no look met it again.
  it.each([
    ['replaced by another type', 'its key {key} holds another type of value than a hash', 'replay verify names it: delete the key, then run replay rebuild'],
    [
      'deleted',
      'it has no read model (its key {key} holds no state nor queue fields)',
      'replay verify names it: run replay rebuild, which writes it again and queues it',
    ],
  ])(
    'given a leased mission whose hash is %s before it is placed, when it is handed back, then one warn says it stays out of the ready queue until it is mended',
    async (how, detail, mend) => {
      const { keys, queue, registry, logger, dispatcher, create } = setup();
      const warn = jest.spyOn(logger, 'warn');
      await fullThoughShownFree(keys, registry);
      await create('m-1');
      const key = keys.mission('m-1');
      queue.afterLease = () => (how === 'deleted' ? redis.del(key) : redis.multi().del(key).set(key, 'replaced by hand').exec());

      await dispatcher.lookForWork();
      await dispatcher.lookForWork();

      expect(warn.mock.calls).toEqual([
        [
          { missionId: 'm-1' },
          `the dispatcher handed back mission m-1: ${detail.replace('{key}', key)}, so it stays out of the ready queue until it is mended (${mend})`,
        ],
      ]);
      expect(await queue.readyIds()).toEqual([]);
      expect(await redis.zcard(keys.partitions[0].leased)).toBe(0);
    },
  );

  it('given a named unreadable mission leased fine once mended, when it breaks again, then it is named again', async () => {
    const { keys, queue, registry, logger, dispatcher, create } = setup();
    const warn = jest.spyOn(logger, 'warn');
    // Each lease is handed back at once, and the mission stays queued.
    await fullThoughShownFree(keys, registry);
    await create('m-flaky');
    const stored = await redis.hget(keys.mission('m-flaky'), 's');
    await redis.hset(keys.mission('m-flaky'), 's', 'not json');
    await dispatcher.lookForWork();
    await queue.expireLeases(Date.now() + 10 * 60_000);
    await redis.hset(keys.mission('m-flaky'), 's', stored ?? '');
    await dispatcher.lookForWork();
    expect(await queue.readyIds()).toEqual(['m-flaky']);

    await redis.hset(keys.mission('m-flaky'), 's', 'not json');
    await dispatcher.lookForWork();

    expect(passedOverWarns(warn)).toEqual([
      expect.stringMatching(/^the dispatcher passes over mission m-flaky: /),
      expect.stringMatching(/^the dispatcher passes over mission m-flaky: /),
    ]);
  });
});

/** The dispatcher's warns that name a mission it passed over. */
function passedOverWarns(warn: jest.SpyInstance): unknown[] {
  return warn.mock.calls
    .map(([message]: unknown[]) => message)
    .filter((message) => typeof message === 'string' && message.startsWith('the dispatcher passes over'));
}
