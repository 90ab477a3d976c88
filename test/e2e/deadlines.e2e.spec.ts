import request from 'supertest';
import { intakeService } from '../../apps/intake/src/intake.definition';
import { TimeWatchService } from '../../apps/intake/src/queue/time-watch.service';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

const inspection = (deadline: string) => ({
  type: 'maintenance',
  title: 'Elevator B inspection',
  description: 'The monthly inspection of elevator B.',
  priority: 'normal',
  requiredSkills: ['elevator_service'],
  payload: { elevator: 'B' },
  deadline,
});

describe('deadlines: overdue missions (four services, real Redis)', () => {
  let system: InProcessSystem;
  beforeAll(async () => {
    // The watch is driven by the test's clock below; its own timer would find nothing due.
    system = await startInProcessSystem('e2e-deadlines', { DEADLINE_CHECK_MS: '3600000' });
  });
  afterAll(async () => system.close());

  it('given a waiting mission, when two intakes look after its deadline, then exactly one MissionOverdue is recorded, shown in stats and /metrics, and cleared when it finishes', async () => {
    // Katrin is the only elevator agent: paused, the mission waits in the queue.
    await system.api.patch('/api/agents/agent-katrin').send({ status: 'paused' }).expect(200);
    const deadline = new Date(Date.now() + 3_600_000);
    const created = await system.api.post('/api/missions').send(inspection(deadline.toISOString())).expect(201);
    const second = await system.addInstance(intakeService);
    const watches = [system.intake.get(TimeWatchService), second.get(TimeWatchService)];

    expect(await watches[0].sweepOverdue(new Date(deadline.getTime() - 1))).toBe(0);
    const after = new Date(deadline.getTime() + 1_000);
    const recorded = await Promise.all(watches.map((watch) => watch.sweepOverdue(after)));
    expect(recorded.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await watches[1].sweepOverdue(new Date(after.getTime() + 60_000))).toBe(0);

    const history = (await system.api.get(`/api/missions/${created.body.id}/events`).expect(200)).body as { type: string; actor: string; data: unknown }[];
    expect(history.filter((event) => event.type === 'MissionOverdue')).toEqual([
      expect.objectContaining({ actor: 'intake:deadline-watch', data: { deadline: deadline.toISOString() } }),
    ]);
    const mission = (await system.api.get(`/api/missions/${created.body.id}`).expect(200)).body;
    expect(mission).toMatchObject({ status: 'queued', overdueAt: after.toISOString() });
    expect((await system.api.get('/api/missions/queue/stats').expect(200)).body).toMatchObject({ overdue: 1, overdueRecorded: 1 });
    const metrics = (await request(system.intake.getHttpServer()).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^brain_missions_overdue{[^}]*state="active"[^}]*} 1$/m);
    expect(metrics).toMatch(/^brain_missions_overdue_total{[^}]*} 1$/m);

    await system.api.patch('/api/agents/agent-katrin').send({ status: 'online' }).expect(200);
    await system.waitForStatus(created.body.id, ['succeeded']);
    expect((await system.api.get('/api/missions/queue/stats').expect(200)).body).toMatchObject({ overdue: 0, overdueRecorded: 1 });
  });

  it('given missions that finish after their deadline but before any check, then each finish records its one MissionOverdue in the same step', async () => {
    const watch = system.intake.get(TimeWatchService);
    const recordedBefore = (await system.api.get('/api/missions/queue/stats').expect(200)).body.overdueRecorded as number;
    // Past already when created; the watch's own timer (an hour) never looks in between.
    const deadline = new Date(Date.now() - 1_000).toISOString();
    const succeeded = await system.api.post('/api/missions').send(inspection(deadline)).expect(201);
    await system.waitForStatus(succeeded.body.id, ['succeeded']);
    await system.api.patch('/api/agents/agent-katrin').send({ status: 'paused' }).expect(200);
    const cancelled = await system.api.post('/api/missions').send(inspection(deadline)).expect(201);
    await system.api.post(`/api/missions/${cancelled.body.id}/cancel`).send({ reason: 'no longer needed' }).expect(200);
    await system.api.patch('/api/agents/agent-katrin').send({ status: 'online' }).expect(200);

    for (const [id, final] of [
      [succeeded.body.id as string, 'MissionEvaluated'],
      [cancelled.body.id as string, 'MissionCancelled'],
    ]) {
      const types = ((await system.api.get(`/api/missions/${id}/events`).expect(200)).body as { type: string }[]).map((event) => event.type);
      expect(types.filter((type) => type === 'MissionOverdue')).toHaveLength(1);
      expect(types.slice(-2)).toEqual(['MissionOverdue', final]);
      expect((await system.api.get(`/api/missions/${id}`).expect(200)).body).toMatchObject({ overdueAt: expect.any(String) });
    }
    expect(await watch.sweepOverdue(new Date())).toBe(0);
    expect((await system.api.get('/api/missions/queue/stats').expect(200)).body).toMatchObject({ overdue: 0, overdueRecorded: recordedBefore + 2 });
  });

  it('given a mission that finished before its deadline, then no sweep ever records it overdue', async () => {
    const deadline = new Date(Date.now() + 3_600_000);
    const created = await system.api.post('/api/missions').send(inspection(deadline.toISOString())).expect(201);
    await system.waitForStatus(created.body.id, ['succeeded']);
    expect(await system.intake.get(TimeWatchService).sweepOverdue(new Date(deadline.getTime() + 1_000))).toBe(0);
    const history = (await system.api.get(`/api/missions/${created.body.id}/events`).expect(200)).body as { type: string }[];
    expect(history.map((event) => event.type)).not.toContain('MissionOverdue');
  });

  describe('given an LLM that always fails and MAX_ATTEMPTS 1', () => {
    let failing: InProcessSystem;
    beforeAll(async () => {
      failing = await startInProcessSystem('e2e-deadlines-dead', { DEADLINE_CHECK_MS: '3600000', MOCK_LLM_FAILURE_RATE: '1', MAX_ATTEMPTS: '1' });
    });
    afterAll(async () => failing.close());

    it('when a dead-lettered mission passes its deadline, then /metrics counts it overdue as dead_lettered, not active', async () => {
      const deadline = new Date(Date.now() + 3_600_000);
      const created = await failing.api.post('/api/missions').send(inspection(deadline.toISOString())).expect(201);
      await failing.waitForStatus(created.body.id, ['dead_lettered']);

      expect(await failing.intake.get(TimeWatchService).sweepOverdue(new Date(deadline.getTime() + 1_000))).toBe(1);

      expect((await failing.api.get('/api/missions/queue/stats').expect(200)).body).toMatchObject({ overdue: 1, overdueDeadLettered: 1 });
      const metrics = (await request(failing.intake.getHttpServer()).get('/metrics').expect(200)).text;
      // One series, counting it until a requeue: BrainMissionsOverdue fired for as long as the dead letter stayed.
      expect(metrics).toMatch(/^brain_missions_overdue{[^}]*state="active"[^}]*} 0$/m);
      expect(metrics).toMatch(/^brain_missions_overdue{[^}]*state="dead_lettered"[^}]*} 1$/m);
    });
  });
});
