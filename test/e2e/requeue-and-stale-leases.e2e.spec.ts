import request from 'supertest';
import { MissionsLeased, Patterns } from '@app/messages';
import { waitFor } from '@app/testing';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

/** Only agent-katrin (fixtures/agents.json) has this skill, so every attempt goes to her. */
const elevatorMission = {
  type: 'maintenance',
  title: 'Elevator stuck between floors 2 and 3',
  description: 'Inspection due; the car stopped twice today.',
  priority: 'high',
  requiredSkills: ['elevator_service'],
  payload: { room: 'elevator' },
};

describe('requeued missions and stale leases (four services, real Redis)', () => {
  describe('given an LLM that always fails and MAX_ATTEMPTS 1', () => {
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-requeue', { MOCK_LLM_FAILURE_RATE: '1', MAX_ATTEMPTS: '1' });
    });
    afterAll(async () => system.close());

    // The requeued attempt used to reuse the first attempt's slot-hold name; the ended marker of
    // that attempt refused the claim for 10 minutes while the mission sat leased.
    it('when a dead letter whose only capable agent ran it is requeued, then it is assigned to that agent again at once', async () => {
      const created = await system.api.post('/api/missions').send(elevatorMission).expect(201);
      await system.waitForStatus(created.body.id, ['dead_lettered']);
      await system.waitForLoad('agent-katrin', 0);

      const requeued = await system.api.post(`/api/dlq/${created.body.id}/requeue`).expect(200);
      expect(requeued.body).toMatchObject({ status: 'queued', attempts: 1, attemptsAtRequeue: 1 });

      const again = await system.waitForStatus(created.body.id, ['dead_lettered'], 10_000);
      expect(again).toMatchObject({ attempts: 2, attemptsAtRequeue: 1 });
      const assignments = (await system.store.history(created.body.id)).filter((event) => event.type === 'MissionAssigned');
      expect(assignments.map((event) => event.data)).toEqual([
        { agentId: 'agent-katrin', attempt: 1 },
        { agentId: 'agent-katrin', attempt: 2 },
      ]);
    });
  });

  describe('given a mission that succeeded', () => {
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-stale-lease');
    });
    afterAll(async () => system.close());

    it('when a stale lease of its first attempt arrives again, then the claim is refused, counted, and nothing changes', async () => {
      const created = await system.api.post('/api/missions').send(elevatorMission).expect(201);
      const done = await system.waitForStatus(created.body.id, ['succeeded']);
      await system.waitForLoad('agent-katrin', 0);
      const queued = (await system.store.history(done.id)).find((event) => event.type === 'MissionQueued');
      if (!queued) throw new Error('no MissionQueued event');

      // The lease message as the intake wrote it before attempt 1, delivered once more.
      const stale: MissionsLeased = { requestId: 'stale-lease', leaseUntil: Date.now() + 15_000, missions: [{ ...done, status: 'queued', attempts: 0, version: queued.version }] };
      const partition = system.keys.of(done.id);
      await system.redis.xadd(partition.stream('orchestrator'), '*', 'pattern', Patterns.orchestrator.missionsLeased, 'data', JSON.stringify(stale));

      const orchestrator = system.apps[1];
      await waitFor(async () => /^brain_dispatch_claims_refused_total(\{[^}]*\})? 1$/m.test((await request(orchestrator.getHttpServer()).get('/metrics')).text), {
        timeoutMs: 10_000,
        what: 'the orchestrator to count the refused claim',
      });
      expect(await system.store.load(done.id)).toEqual(done);
      expect(await system.redis.hget(system.keys.agentLoad, 'agent-katrin')).toBe('0');
      expect(await system.redis.zcard(partition.leased)).toBe(0);
    });
  });
});
