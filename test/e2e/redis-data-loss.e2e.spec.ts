import { Mission } from '@app/mission';
import { deleteKeysByPrefix, waitFor } from '@app/testing';
import { RESEED_CHECK_MS, seedProfiles } from '../../apps/orchestrator/src/agents/agent-seeder.service';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

const MISSION = { type: 'maintenance', title: 'AC broken in room 204', description: 'The AC blows warm air.', priority: 'high', payload: { room: '204' } };

describe('Redis back without its data, the services running (four services, real Redis)', () => {
  let system: InProcessSystem;

  beforeAll(async () => {
    system = await startInProcessSystem('e2e-redis-data-loss');
  });
  afterAll(async () => system.close());

  it('given every key lost under the running services, then the agents are seeded again and a mission created afterwards succeeds', async () => {
    const before = (await system.api.post('/api/missions').send(MISSION).expect(201)).body as Mission;
    await system.waitForStatus(before.id, ['succeeded']);
    await system.waitForIdleAgents();

    // As a Redis restarted without persistence comes back: nothing under the prefix, consumer groups included.
    await deleteKeysByPrefix(system.redis, system.prefix);
    // Every seeded agent: they are registered one by one, and a create meanwhile that needs the
    // skills of one not yet back is refused (422), as when no agent has them.
    const seeded = seedProfiles().length;
    await waitFor(async () => (await system.redis.hlen(system.keys.agents)) === seeded, {
      timeoutMs: 3 * RESEED_CHECK_MS,
      what: `the agent registry seeded again with its ${seeded} agents`,
    });

    const after = (await system.api.post('/api/missions').send(MISSION).expect(201)).body as Mission;
    // It stayed queued: no agent to assign it to until the orchestrator was restarted.
    expect((await system.waitForStatus(after.id, ['succeeded'], 30_000)).assignedAgentId).toEqual(expect.any(String));
  }, 60_000);
});
