import { aCreateInput, waitFor } from '@app/testing';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

const leakingTap = aCreateInput({ type: 'maintenance', title: 'Leaking tap in room 118', payload: { room: '118', issue: 'leaking tap' } });

describe('executor shutdown with an LLM call in progress (four services, real Redis)', () => {
  describe('given a call that ends within SHUTDOWN_GRACE_MS', () => {
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-executor-drain', {}, { executor: { MOCK_LLM_LATENCY_MS: '1500', SHUTDOWN_GRACE_MS: '5000' } });
    });
    afterAll(async () => system?.close());

    it('when the executor shuts down, then it lets the call finish and records the result, and the attempt is not lost', async () => {
      const created = await system.api.post('/api/missions').send(leakingTap).expect(201);
      await system.waitForStatus(created.body.id, ['running']);

      await system.stopService('executor');

      const done = await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered', 'queued']);
      expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
      const types = (await system.store.history(created.body.id)).map((event) => event.type);
      expect(types).not.toContain('MissionFailed');
    });
  });

  describe('given a call longer than SHUTDOWN_GRACE_MS', () => {
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-executor-abort', {}, { executor: { MOCK_LLM_LATENCY_MS: '5000', SHUTDOWN_GRACE_MS: '200' } });
    });
    afterAll(async () => system?.close());

    it('when the executor shuts down, then the call is aborted after the grace and the attempt is handed back for another executor', async () => {
      const created = await system.api.post('/api/missions').send(leakingTap).expect(201);
      await system.waitForStatus(created.body.id, ['running']);

      await system.stopService('executor');

      const history = await waitFor(
        async () => {
          const events = await system.store.history(created.body.id);
          return events.some((event) => event.type === 'MissionQueued' && event.version > 2) ? events : null;
        },
        { timeoutMs: 10_000, what: 'the aborted attempt to be queued again' },
      );
      const failed = history.filter((event) => event.type === 'MissionFailed');
      expect(failed.map((event) => event.data)).toEqual([expect.objectContaining({ attempt: 1, error: 'executor shut down during the attempt' })]);
      expect(history.map((event) => event.type)).not.toContain('MissionCompleted');
    });
  });
});
