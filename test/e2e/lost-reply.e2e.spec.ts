import { redisUrl, waitFor, aCreateInput } from '@app/testing';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';
import { ReplyDroppingProxy } from '../support/reply-dropping-proxy';

const leakingTap = aCreateInput({ type: 'maintenance', title: 'Leaking tap in room 118', payload: { room: '118', issue: 'leaking tap' } });

describe('a lost reply to the executor start (four services, real Redis)', () => {
  const target = new URL(redisUrl());
  const proxy = new ReplyDroppingProxy({ host: target.hostname, port: Number(target.port || 6379) }, (sent) =>
    sent.includes('"type":"MissionStarted"') ? 'MissionStarted' : null,
  );
  let system: InProcessSystem;

  beforeAll(async () => {
    await proxy.start();
    system = await startInProcessSystem('e2e-lost-reply', {}, { executor: { REDIS_URL: proxy.url } });
  });

  afterAll(async () => {
    await system?.close();
    await proxy.stop();
  });

  test('given Redis wrote MissionStarted but the executor never heard so, when ioredis resends the append, then the executor knows its own start and the mission finishes in one attempt', async () => {
    const created = await system.api.post('/api/missions').send(leakingTap).expect(201);
    const missionId = created.body.id as string;

    const finished = await system.waitForStatus(missionId, ['succeeded', 'dead_lettered']);

    expect(proxy.trips.map((trip) => trip.label)).toEqual(['MissionStarted']);
    expect(finished.status).toBe('succeeded');
    expect(finished.attempts).toBe(1);
    const types = (await system.store.history(missionId)).map((event) => event.type);
    expect(types.filter((type) => type === 'MissionStarted')).toHaveLength(1);
    expect(types.filter((type) => type === 'MissionCompleted')).toHaveLength(1);
    expect(types).not.toContain('MissionFailed');
  });
});

describe('a lost reply to the orchestrator assignment (four services, real Redis)', () => {
  const target = new URL(redisUrl());
  const proxy = new ReplyDroppingProxy({ host: target.hostname, port: Number(target.port || 6379) }, (sent) =>
    sent.includes('"type":"MissionAssigned"') ? 'MissionAssigned' : null,
  );
  let system: InProcessSystem;

  beforeAll(async () => {
    await proxy.start();
    system = await startInProcessSystem('e2e-lost-assign-reply', { MOCK_LLM_LATENCY_MS: '3000' }, { orchestrator: { REDIS_URL: proxy.url } });
  });

  afterAll(async () => {
    await system?.close();
    await proxy.stop();
  });

  test('given Redis wrote MissionAssigned but the orchestrator never heard so, when the resent append meets it, then the agent slot stays held while the attempt runs and the verdict is credited once', async () => {
    const created = await system.api.post('/api/missions').send(leakingTap).expect(201);
    const missionId = created.body.id as string;

    const running = await system.waitForStatus(missionId, ['running']);
    const agentId = running.assignedAgentId ?? '';
    // Once the orchestrator has handled every message (the lease included, after its resent append), the slot must still be held.
    const orchestratorStream = system.keys.of(missionId).stream('orchestrator');
    await waitFor(async () => ((await system.redis.xpending(orchestratorStream, 'orchestrator')) as [number])[0] === 0, {
      timeoutMs: 10_000,
      what: 'the orchestrator to have handled its messages',
    });
    expect((await system.store.load(missionId))?.status).toBe('running');
    const holds = Object.values(await system.redis.hgetall(system.keys.agentHolds)).map((raw) => JSON.parse(raw) as { missionId: string });
    expect(holds.map((hold) => hold.missionId)).toContain(missionId);
    expect(await system.redis.hget(system.keys.agentLoad, agentId)).toBe('1');

    await system.waitForStatus(missionId, ['succeeded']);
    await system.waitForLoad(agentId, 0);
    const credits = (await system.redis.xrange(system.keys.agentLog(agentId), '-', '+'))
      .map(([, fields]) => JSON.parse(fields[1]) as { type: string; data: { missionId?: string } })
      .filter((event) => event.type === 'AgentCreditsChanged' && event.data.missionId === missionId);
    expect(proxy.trips.map((trip) => trip.label)).toEqual(['MissionAssigned']);
    expect(credits).toHaveLength(1);
  });
});
