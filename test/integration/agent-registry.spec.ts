import { AgentRegistry, AgentVersionConflictError } from '@app/agents';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedis } from '@app/testing';

const lena = {
  id: 'agent-lena',
  name: 'Lena',
  skills: ['guest_communication'],
  capacity: 2,
  credits: 100,
  model: 'mock-hotel-1',
  systemPrompt: 'You are Lena.',
};

describe('AgentRegistry changes (real Redis)', () => {
  const prefix = testKeyPrefix('agent-registry');
  const keys = new KeyLayout(prefix);
  const redis = testRedis();
  const registry = new AgentRegistry(redis, keys);
  const eventTypes = async () => (await redis.xrange(keys.agentLog(lena.id), '-', '+')).map(([, fields]) => JSON.parse(fields[1]).type as string);

  beforeEach(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await registry.register(lena, 'operator-key');
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given an agent, when fields and status change together, then both events are appended under one version check', async () => {
    const changed = await registry.change(lena.id, { fields: { capacity: 5 }, status: { status: 'paused', reason: 'training' } }, 'operator-key');

    expect(changed).toMatchObject({ capacity: 5, status: 'paused', version: 3 });
    expect(await eventTypes()).toEqual(['AgentRegistered', 'AgentUpdated', 'AgentStatusChanged']);
    expect(await registry.record(lena.id)).toEqual(changed);
    expect(await redis.hget(keys.agentCapacity, lena.id)).toBe('5');
  });

  it('given an agent changed by someone else after it was read, when fields and status change, then it is a conflict and neither change lands', async () => {
    const other = new AgentRegistry(redis, keys);
    const read = registry.record.bind(registry);
    // The concurrent change lands between this registry's read and its append.
    jest.spyOn(registry, 'record').mockImplementationOnce(async (id) => {
      const stale = await read(id);
      await other.change(id, { fields: { name: 'Lena (nights)' } }, 'other-operator');
      return stale;
    });

    await expect(
      registry.change(lena.id, { fields: { capacity: 5 }, status: { status: 'paused', reason: 'training' } }, 'operator-key'),
    ).rejects.toBeInstanceOf(AgentVersionConflictError);

    expect(await registry.record(lena.id)).toMatchObject({ name: 'Lena (nights)', capacity: 2, status: 'online', version: 2 });
    expect(await eventTypes()).toEqual(['AgentRegistered', 'AgentUpdated']);
    expect(await redis.hget(keys.agentCapacity, lena.id)).toBe('2');
  });

  it('given an agent already paused, when it is paused again with nothing else, then no event is written', async () => {
    await registry.change(lena.id, { status: { status: 'paused', reason: 'training' } }, 'operator-key');

    const again = await registry.change(lena.id, { status: { status: 'paused', reason: 'again' }, fields: {} }, 'operator-key');

    expect(again.version).toBe(2);
    expect(await eventTypes()).toEqual(['AgentRegistered', 'AgentStatusChanged']);
  });

  // Saving the console's form unchanged (or a PATCH repeating the name) recorded an AgentUpdated that changed nothing.
  it('given an agent, when fields are set to the values they have, then only the ones that differ are recorded, and none at all adds no event', async () => {
    const same = await registry.change(lena.id, { fields: { name: lena.name, skills: [...lena.skills], capacity: lena.capacity } }, 'operator-key');
    expect(same.version).toBe(1);

    await registry.change(lena.id, { fields: { name: lena.name, capacity: 4 } }, 'operator-key');
    const events = await redis.xrange(keys.agentLog(lena.id), '-', '+');
    expect(events.map(([, fields]) => JSON.parse(fields[1]))).toEqual([
      expect.objectContaining({ type: 'AgentRegistered' }),
      expect.objectContaining({ type: 'AgentUpdated', data: { capacity: 4 } }),
    ]);
  });

  describe('seeding', () => {
    const seed = [
      lena,
      { ...lena, id: 'agent-max', name: 'Max', systemPrompt: 'You are Max.' },
      { ...lena, id: 'agent-mia', name: 'Mia', systemPrompt: 'You are Mia.' },
    ];
    const agentIds = async () => (await redis.hkeys(keys.agents)).sort();

    it('given a seeding cut short after its first agent, when it runs again, then the agents it lacks are registered and the first is left as it is', async () => {
      await registry.change(lena.id, { fields: { capacity: 4 } }, 'operator-key');

      expect(await registry.seedMissing(seed)).toBe(2);

      expect(await agentIds()).toEqual(['agent-lena', 'agent-max', 'agent-mia']);
      expect(await registry.record(lena.id)).toMatchObject({ capacity: 4, version: 2 });
      expect(await registry.seedMissing(seed)).toBe(0);
    });

    it('given a registry with an agent the seed does not name, when seeding runs, then nothing is added', async () => {
      await registry.register({ ...lena, id: 'agent-own', name: 'Own', systemPrompt: 'Our own.' }, 'operator-key');

      expect(await registry.seedMissing(seed)).toBe(0);
      expect(await agentIds()).toEqual(['agent-lena', 'agent-own']);
    });

    it('given Redis gone, when seeding runs, then the failure is thrown, not passed over', async () => {
      const closed = testRedis();
      await closed.quit();

      await expect(new AgentRegistry(closed, keys).seedMissing(seed)).rejects.toThrow('Connection is closed.');
      expect(await agentIds()).toEqual(['agent-lena']);
    });

    // After Redis lost its data the intake refused creates (422: no agent has the skills) while
    // the seed went in one agent after another; a reader now sees none of it or all of it.
    it('given an empty registry, when it is seeded while another client reads it, then the reader never sees part of the seed', async () => {
      await deleteKeysByPrefix(redis, prefix);
      const many = Array.from({ length: 40 }, (_, n) => ({ ...lena, id: `agent-${n}`, name: `Agent ${n}`, systemPrompt: `You are agent ${n}.` }));
      const reader = testRedis();
      const counts = new Set<number>();
      let seeding = true;
      const reading = (async () => {
        while (seeding) counts.add(await reader.hlen(keys.agents));
      })();

      const added = await registry.seedMissing(many);
      seeding = false;
      await reading;
      await reader.quit();

      expect(added).toBe(40);
      expect([...counts].filter((count) => count !== 0 && count !== 40)).toEqual([]);
      expect(await registry.record('agent-39')).toMatchObject({ version: 1, updatedBy: 'seed' });
    });
  });
});
