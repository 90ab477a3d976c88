import { UNFILTERED_REQUEUE_PROBLEM } from '../../apps/intake/src/dead-letters/requeue-filter.body';
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

describe('requeued missions (four services, real Redis)', () => {
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

    it('when a requeue is asked with a limit that is no JSON integer, a body it does not take, or a page past the end, then 4xx or an empty page, and the dead letter stays', async () => {
      const created = await system.api.post('/api/missions').send(elevatorMission).expect(201);
      await system.waitForStatus(created.body.id, ['dead_lettered']);

      // These used to be taken for 1 and requeue the oldest dead letter.
      for (const limit of [true, '1', '0x1', 1.5]) {
        const refused = await system.api.post('/api/dlq/requeue').send({ all: true, limit }).expect(400);
        expect(refused.body.details).toEqual([{ field: 'limit', problems: expect.arrayContaining(['limit must be an integer number']) }]);
      }
      // It used to requeue and ignore the body.
      await system.api.post(`/api/dlq/${created.body.id}/requeue`).send({ reason: 'retry with a bigger model' }).expect(400);
      // It used to answer 500: Redis refused the range's end as no 64-bit integer.
      const past = await system.api.get('/api/dlq?offset=99999999999999999999').expect(200);
      expect(past.body).toEqual([]);

      expect(await system.store.load(created.body.id)).toMatchObject({ status: 'dead_lettered' });
      const listed = await system.api.get('/api/dlq').expect(200);
      expect(listed.body.map((entry: { missionId: string }) => entry.missionId)).toContain(created.body.id);
    });

    // Last: `"all": true` requeues every dead letter of this system.
    it('when a bulk requeue gives no condition, then it is a 400 that says to send "all": true, and only with it are the dead letters requeued', async () => {
      const created = await system.api.post('/api/missions').send(elevatorMission).expect(201);
      await system.waitForStatus(created.body.id, ['dead_lettered']);
      const deadLetters = async () => ((await system.api.get('/api/dlq').expect(200)).body as { missionId: string }[]).map((entry) => entry.missionId);
      const before = await deadLetters();
      expect(before).toContain(created.body.id);

      // Each of these used to requeue the oldest dead letters (up to 100, or the limit): a forgotten filter restarted them all.
      const unfiltered = [
        { body: undefined, name: 'no body' },
        { body: {}, name: 'an empty body' },
        { body: { limit: 5 }, name: 'a limit alone' },
        { body: { reason: 'provider back' }, name: 'a reason alone' },
        { body: { all: false }, name: 'all false' },
      ];
      for (const { body, name } of unfiltered) {
        const post = system.api.post('/api/dlq/requeue');
        const refused = await (body === undefined ? post : post.send(body)).expect(400);
        expect({ name, body: refused.body }).toEqual({
          name,
          body: {
            statusCode: 400,
            error: 'Bad Request',
            message: 'request validation failed',
            details: [{ field: 'all', problems: [UNFILTERED_REQUEUE_PROBLEM] }],
          },
        });
      }
      expect(await deadLetters()).toEqual(before);
      expect(await system.store.load(created.body.id)).toMatchObject({ status: 'dead_lettered' });

      const all = await system.api.post('/api/dlq/requeue').send({ all: true, reason: 'provider back' }).expect(200);
      expect(all.body).toEqual({ requeued: before, skipped: [] });
      const requeued = (await system.store.history(created.body.id)).filter((event) => event.type === 'MissionRequeued');
      expect(requeued.map((event) => event.data)).toEqual([expect.objectContaining({ reason: 'provider back' })]);
    });
  });
});
