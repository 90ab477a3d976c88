import request from 'supertest';
import { AgentRegistry } from '@app/agents';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

const mila = {
  id: 'agent-mila',
  name: 'Mila – Night Desk',
  skills: ['guest_communication', 'night_audit'],
  capacity: 2,
  credits: 50,
  model: 'mock-hotel-1',
  systemPrompt: 'You are Mila, night desk agent. Answer only with the JSON object asked for.',
};
const nightMission = {
  type: 'guest_support',
  title: 'Night audit question',
  description: 'A guest asks at 2 am whether the bar bill was charged twice.',
  priority: 'normal',
  requiredSkills: ['guest_communication', 'night_audit'],
  payload: { language: 'en', guest: { name: 'Mr. Okafor' } },
};

describe('agents as event-sourced records (four services, real Redis)', () => {
  let system: InProcessSystem;
  beforeAll(async () => {
    system = await startInProcessSystem('e2e-agents');
  });
  afterAll(async () => system.close());

  it('given the seeded registry, then GET /api/agents lists the fixture agents with their live figures', async () => {
    const agents = await system.api.get('/api/agents').expect(200);
    expect(agents.body.length).toBeGreaterThanOrEqual(8);
    expect(agents.body[0]).toMatchObject({ status: 'online', load: 0, version: 1, quality: null, recentMissions: [] });
    await system.api.get('/api/agents/nobody').expect(404);
  });

  it('given a reader or submitter key, then agents come without their systemPrompt; an operator key sees it', async () => {
    for (const role of ['reader', 'submitter'] as const) {
      const as = (path: string) => request(system.intake.getHttpServer()).get(path).set('Authorization', `Bearer ${TEST_KEYS[role]}`).expect(200);
      const list = await as('/api/agents');
      expect(list.body.length).toBeGreaterThan(0);
      for (const agent of list.body) expect(agent).not.toHaveProperty('systemPrompt');
      expect((await as('/api/agents/agent-lena')).body).not.toHaveProperty('systemPrompt');
    }
    const operator = await system.api.get('/api/agents').expect(200);
    for (const agent of operator.body) expect(agent.systemPrompt).toEqual(expect.any(String));
    expect((await system.api.get('/api/agents/agent-lena').expect(200)).body.systemPrompt).toEqual(expect.any(String));
  });

  it('when an operator registers, pauses and resumes an agent, then each change is an event, and a paused agent gets no missions', async () => {
    const created = await system.api.post('/api/agents').send(mila).expect(201);
    expect(created.body).toMatchObject({ id: 'agent-mila', status: 'online', credits: 50, capacity: 2, version: 1, statusChange: null, updatedBy: 'operator' });
    // It said "changed concurrently; reload and retry", which sends a client round a retry that meets the same agent.
    expect((await system.api.post('/api/agents').send(mila).expect(409)).body.message).toBe(
      `agent ${mila.id} exists already; register it under another id, or change it with PATCH`,
    );
    await request(system.intake.getHttpServer())
      .post('/api/agents')
      .set('Authorization', `Bearer ${TEST_KEYS.submitter}`)
      .send({ ...mila, id: 'agent-x' })
      .expect(403);
    await system.api
      .post('/api/agents')
      .send({ ...mila, id: 'agent-y', capacity: 0 })
      .expect(400);

    const paused = await system.api.patch('/api/agents/agent-mila').send({ status: 'paused', reason: 'training' }).expect(200);
    // Staff see why an agent is paused and who paused it, not only that it is.
    expect(paused.body).toMatchObject({
      status: 'paused',
      version: 2,
      statusChange: { reason: 'training', by: 'operator', at: expect.any(String) },
      updatedBy: 'operator',
    });
    const mission = await system.api.post('/api/missions').send(nightMission).expect(201);
    // Only Mila has night_audit: the mission waits while she is paused, without blocking others.
    const other = await system.api
      .post('/api/missions')
      .send({ ...nightMission, requiredSkills: undefined, title: 'Towels' })
      .expect(201);
    await system.waitForStatus(other.body.id, ['succeeded']);
    expect((await system.store.load(mission.body.id))?.status).toBe('queued');

    const resumed = await system.api.patch('/api/agents/agent-mila').send({ status: 'online', capacity: 3, name: 'Mila' }).expect(200);
    expect(resumed.body).toMatchObject({ status: 'online', capacity: 3, name: 'Mila', version: 4 });
    const done = await system.waitForStatus(mission.body.id, ['succeeded']);
    expect(done.assignedAgentId).toBe('agent-mila');

    const view = await system.api.get('/api/agents/agent-mila').expect(200);
    expect(view.body.credits).toBeGreaterThan(50);
    expect(view.body.quality).toBeGreaterThan(0);
    expect(view.body.recentMissions).toEqual([expect.objectContaining({ missionId: done.id, attempt: 1, passed: true })]);
    expect(view.body.load).toBe(0);

    const events = await system.redis.xrange(system.keys.agentLog('agent-mila'), '-', '+');
    expect(events.map(([, fields]) => JSON.parse(fields[1]).type)).toEqual([
      'AgentRegistered',
      'AgentStatusChanged',
      'AgentUpdated',
      'AgentStatusChanged',
      'AgentCreditsChanged',
    ]);
    await system.api.patch('/api/agents/nobody').send({ status: 'paused' }).expect(404);
  });

  it('given an operator changing fields and status while another changes the agent, then the PATCH is all or nothing', async () => {
    const other = new AgentRegistry(system.redis, system.keys);
    const read = AgentRegistry.prototype.record;
    let reads = 0;
    let interfered = false;
    // The PATCH's second read (if it reads twice) returns the record as it was, after another
    // operator's change has landed: a PATCH written in two steps sees its second step conflict.
    const spy = jest.spyOn(AgentRegistry.prototype, 'record').mockImplementation(async function (this: AgentRegistry, id: string) {
      const stale = await read.call(this, id);
      if (id === 'agent-tom' && ++reads === 2 && !interfered) {
        interfered = true;
        await other.change(id, { fields: { model: 'mock-hotel-2' } }, 'other-operator');
      }
      return stale;
    });
    const before = (await system.api.get('/api/agents/agent-tom').expect(200)).body;
    reads = 0;
    const patch = await system.api.patch('/api/agents/agent-tom').send({ capacity: before.capacity + 7, status: 'paused' });
    spy.mockRestore();

    const after = (await system.api.get('/api/agents/agent-tom').expect(200)).body;
    if (patch.status === 200) expect(after).toMatchObject({ capacity: before.capacity + 7, status: 'paused' });
    else expect([patch.status, after.capacity, after.status]).toEqual([409, before.capacity, before.status]);
    await system.api.patch('/api/agents/agent-tom').send({ status: 'online' }).expect(200);
  });
});
