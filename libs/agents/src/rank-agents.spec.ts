import fc from 'fast-check';
import { AgentSnapshot } from './agent';
import { isQualified, rankAgents } from './rank-agents';

const agent = (overrides: Partial<AgentSnapshot> & { id: string }): AgentSnapshot => ({
  skills: ['guest_communication'],
  status: 'online',
  capacity: 4,
  load: 0,
  credits: 100,
  quality: null,
  lastAssignedAt: 0,
  ...overrides,
});
const needs = { requiredSkills: ['guest_communication'], previousAgentIds: [] as string[] };

describe('rankAgents', () => {
  test.each([
    ['a missing skill', agent({ id: 'a', skills: ['revenue_management'] })],
    ['no spare capacity', agent({ id: 'a', load: 4 })],
    ['paused', agent({ id: 'a', status: 'paused' })],
    ['offline', agent({ id: 'a', status: 'offline' })],
  ])('given an agent with %s, then it is filtered out', (_case, candidate) => {
    expect(rankAgents([candidate], needs)).toEqual([]);
  });

  it('given several required skills, then only agents with all of them qualify', () => {
    const ranked = rankAgents([agent({ id: 'one', skills: ['facility_maintenance'] }), agent({ id: 'both', skills: ['facility_maintenance', 'hvac'] })], {
      requiredSkills: ['facility_maintenance', 'hvac'],
      previousAgentIds: [],
    });
    expect(ranked.map((a) => a.id)).toEqual(['both']);
  });

  test.each<[string, AgentSnapshot[], string[]]>([
    ['lower load share first', [agent({ id: 'busy', load: 2 }), agent({ id: 'idle', load: 0 })], ['idle', 'busy']],
    ['share, not absolute load', [agent({ id: 'small', load: 1, capacity: 2 }), agent({ id: 'big', load: 2, capacity: 10 })], ['big', 'small']],
    [
      'higher quality first at equal load',
      [agent({ id: 'sloppy', quality: 0.6 }), agent({ id: 'careful', quality: 0.95 }), agent({ id: 'new' })],
      ['careful', 'new', 'sloppy'],
    ],
    ['more credits first at equal load', [agent({ id: 'poor', credits: 50 }), agent({ id: 'rich', credits: 150 })], ['rich', 'poor']],
    [
      'least recently assigned at equal credits',
      [agent({ id: 'recent', lastAssignedAt: 2000 }), agent({ id: 'long-ago', lastAssignedAt: 1000 })],
      ['long-ago', 'recent'],
    ],
    ['id as the last tie breaker', [agent({ id: 'b' }), agent({ id: 'a' })], ['a', 'b']],
  ])('given agents that differ in one key, then %s', (_case, agents, expected) => {
    expect(rankAgents(agents, needs).map((a) => a.id)).toEqual(expected);
  });

  it('given a retry, then the agent of the earlier attempt comes last even when it is idle', () => {
    const ranked = rankAgents([agent({ id: 'failed-before' }), agent({ id: 'other', load: 3 })], {
      ...needs,
      previousAgentIds: ['failed-before'],
    });
    expect(ranked.map((a) => a.id)).toEqual(['other', 'failed-before']);
  });

  it('property: the ranking holds exactly the qualified agents, and the first has the lowest load share among fresh agents', () => {
    const arbitraryAgent = fc.record({
      id: fc.string({ minLength: 1, maxLength: 4 }),
      skills: fc.subarray(['guest_communication', 'german', 'vip_care']),
      status: fc.constantFrom('online' as const, 'paused' as const, 'offline' as const),
      capacity: fc.integer({ min: 1, max: 10 }),
      load: fc.integer({ min: 0, max: 10 }),
      credits: fc.integer({ min: 0, max: 500 }),
      quality: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
      lastAssignedAt: fc.integer({ min: 0, max: 10_000 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(arbitraryAgent, { selector: (a) => a.id, maxLength: 12 }),
        fc.subarray(['guest_communication', 'german']),
        (agents, skills) => {
          const ranked = rankAgents(agents, { requiredSkills: skills, previousAgentIds: [] });
          expect(new Set(ranked.map((a) => a.id))).toEqual(new Set(agents.filter((a) => isQualified(a, skills)).map((a) => a.id)));
          for (let i = 1; i < ranked.length; i++) {
            expect(ranked[i - 1].load / ranked[i - 1].capacity).toBeLessThanOrEqual(ranked[i].load / ranked[i].capacity);
          }
        },
      ),
    );
  });
});
