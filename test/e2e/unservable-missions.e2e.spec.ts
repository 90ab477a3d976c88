import { MissionCreateDto } from '@app/mission';
import { MissionClient } from '@app/mission-client';
import { waitFor } from '@app/testing';
import { InProcessSystem, startInProcessSystem } from '../support/in-process-system';

const saunaRepair = {
  type: 'maintenance',
  title: 'Sauna heater does not start',
  description: 'The spa sauna stays cold since this morning.',
  priority: 'normal',
  requiredSkills: ['sauna_repair'],
  payload: { room: 'spa' },
};

describe('missions no agent could take (four services, real Redis)', () => {
  let system: InProcessSystem;
  beforeAll(async () => {
    system = await startInProcessSystem('e2e-unservable');
  });
  afterAll(async () => system.close());

  it('given no agent with the skill, when such a mission is created, then it is a 422 naming the skill and nothing is recorded', async () => {
    const logBefore = await system.logLength();
    const refused = await system.api.post('/api/missions').send(saunaRepair).expect(422);
    expect(refused.body).toMatchObject({ statusCode: 422, message: 'no registered agent has the skill sauna_repair: nobody could take this mission' });

    // Each skill exists, but no single agent has both.
    const split = await system.api
      .post('/api/missions')
      .send({ ...saunaRepair, requiredSkills: ['elevator_service', 'german'] })
      .expect(422);
    expect(split.body.message).toBe('no registered agent has all of the skills elevator_service, german: nobody could take this mission');
    expect(await system.logLength()).toBe(logBefore);
  });

  it('given an agent registered with the skill a moment ago, when the mission is created, then it is accepted and runs', async () => {
    await system.api
      .post('/api/agents')
      .send({
        id: 'agent-sven',
        name: 'Sven – Spa',
        skills: ['sauna_repair'],
        capacity: 1,
        credits: 100,
        model: 'mock-hotel-1',
        systemPrompt: 'You are Sven, spa technician.',
      })
      .expect(201);
    const created = await system.api.post('/api/missions').send(saunaRepair).expect(201);
    await system.waitForStatus(created.body.id, ['succeeded']);
  });

  it('given an internal service, when it submits a mission no agent could take, then the command goes to the rejected stream with the reason', async () => {
    const client = new MissionClient(system.redis, system.prefix, system.environment.LOG_PARTITIONS);
    const missionId = await client.create({ ...saunaRepair, requiredSkills: ['pool_cleaning'] } as MissionCreateDto, { idempotencyKey: 'spa-pool-1' });
    const rejected = await waitFor(
      async () => {
        for (const partition of system.keys.partitions) {
          const entries = await system.redis.xrange(partition.rejectedSubmissions, '-', '+');
          const reasons = entries.map(([, fields]) => `${fields[fields.indexOf('code') + 1]}: ${fields[fields.indexOf('reason') + 1]}`);
          if (reasons.length > 0) return reasons;
        }
        return null;
      },
      { timeoutMs: 10_000, what: 'the submission to be rejected' },
    );
    // With its code, so that a sender can act on it without reading the words (the Odoo connector takes the record in once an agent has the skill).
    expect(rejected).toEqual(['no_agent_has_skills: no registered agent has the skill pool_cleaning: nobody could take this mission']);
    expect(await system.store.load(missionId)).toBeNull();
  });

  it('given a mission created while an agent had its skill, when its create is repeated after no agent has it, then the repeat answers the mission, not 422', async () => {
    await system.api
      .post('/api/agents')
      .send({
        id: 'agent-ulla',
        name: 'Ulla – Pool',
        skills: ['pool_heating'],
        capacity: 1,
        credits: 100,
        model: 'mock-hotel-1',
        systemPrompt: 'You look after the pool.',
      })
      .expect(201);
    const heating = { ...saunaRepair, title: 'Pool water too cold', requiredSkills: ['pool_heating'] };
    const created = await system.api.post('/api/missions').set('Idempotency-Key', 'pool-heating-1').send(heating).expect(201);
    await system.api
      .patch('/api/agents/agent-ulla')
      .send({ skills: ['pool_cleaning'] })
      .expect(200);
    // A refusal makes the intake read the registry as it is now; then a new mission with the skill is refused too.
    await system.api
      .post('/api/missions')
      .send({ ...heating, requiredSkills: ['ice_rink'] })
      .expect(422);
    await system.api.post('/api/missions').send(heating).expect(422);

    const repeated = await system.api.post('/api/missions').set('Idempotency-Key', 'pool-heating-1').send(heating).expect(200);
    expect(repeated.body.id).toBe(created.body.id);
  });
});
