import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { buildLlmRequest, guestLanguage, MockLlmClient, MockLlmOptions } from '@app/llm';
import { DEFAULT_SKILLS, GUEST_LANGUAGES, Mission, MissionCreateDto } from '@app/mission';
import { RuleBasedJudge, Verdict } from './rule-based-judge';

interface AgentFixture {
  id: string;
  name: string;
  skills: string[];
  capacity: number;
  credits: number;
  model: string;
  systemPrompt: string;
}

const FIXTURES = path.resolve(__dirname, '../../../fixtures');
const load = (file: string): unknown => JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8'));
const rawMissions = load('odoo_missions_mock.json') as Array<Record<string, unknown>>;
const agents = load('agents.json') as AgentFixture[];
/** The missions the demo's recurring schedules create are fixtures too, and must pass as the others do. */
const scheduleTemplates = (load('schedules.json') as Array<{ template: Record<string, unknown> }>).map((schedule) => schedule.template);
const rawAll = [...rawMissions, ...scheduleTemplates];
const missions = rawAll.map((raw) => plainToInstance(MissionCreateDto, raw));
const MAX_ATTEMPTS = 3;
const NOW = '2026-11-26T08:00:00.000Z';

const label = (dto: MissionCreateDto, index: number): string => `#${index + 1} ${dto.type}: ${dto.title}`;
const skillsOf = (dto: MissionCreateDto): string[] => (dto.requiredSkills?.length ? dto.requiredSkills : [...DEFAULT_SKILLS[dto.type]]);
const deadLetters = (dto: MissionCreateDto): boolean => dto.payload.expectedOutcome === 'dead_lettered';

/** What the orchestrator would hand the executor for this attempt: the retry carries the last verdict as feedback. */
function toMission(dto: MissionCreateDto, index: number, attempt: number, feedback: string | null): Mission {
  const id = `fixture-${String(index + 1).padStart(2, '0')}`;
  return {
    id,
    type: dto.type,
    title: dto.title,
    description: dto.description,
    priority: dto.priority,
    priorityScore: 0,
    requiredSkills: skillsOf(dto),
    payload: dto.payload,
    ...(dto.deadline ? { deadline: dto.deadline } : {}),
    status: 'running',
    attempts: attempt,
    assignedAgentId: agents[0].id,
    previousAgentIds: [],
    result: null,
    evaluation: null,
    feedback,
    lastError: null,
    correlationId: id,
    version: 1,
    createdAt: NOW,
    updatedAt: NOW,
  };
}

async function runAttempts(dto: MissionCreateDto, index: number, options: MockLlmOptions): Promise<Verdict[]> {
  const client = new MockLlmClient(options);
  const judge = new RuleBasedJudge();
  const verdicts: Verdict[] = [];
  let feedback: string | null = null;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const mission = toMission(dto, index, attempt, feedback);
    const response = await client.complete(buildLlmRequest(mission, { systemPrompt: agents[0].systemPrompt, timeoutMs: 1000 }));
    const verdict = judge.judge(mission, response.output);
    verdicts.push(verdict);
    if (verdict.passed) break;
    feedback = verdict.reason;
  }
  return verdicts;
}

const isOdoo = (source: unknown): boolean => typeof source === 'object' && source !== null && (source as { system?: unknown }).system === 'odoo';

describe('fixtures', () => {
  it('given the mission fixtures, then there are at least 32 covering every type, every guest language, VIP and safety', () => {
    expect(missions.length).toBeGreaterThanOrEqual(32);
    expect(new Set(missions.filter((m) => m.type === 'guest_support').map((m) => guestLanguage(m)))).toEqual(new Set(GUEST_LANGUAGES));
    expect(new Set(missions.map((m) => m.type))).toEqual(new Set(['guest_support', 'pricing', 'maintenance']));
    expect(missions.some((m) => m.payload.safetyIssue === true)).toBe(true);
    expect(missions.some((m) => JSON.stringify(m.payload).includes('"vip":true'))).toBe(true);
    expect(rawMissions.filter((m) => isOdoo(m.source))).toHaveLength(rawMissions.length);
  });

  it.each(missions.map((dto, i) => [label(dto, i), rawAll[i]] as const))(
    'given %s, when validated as MissionCreateDto, then there are no errors',
    (_label, raw) => {
      expect(validateSync(plainToInstance(MissionCreateDto, raw))).toEqual([]);
    },
  );

  it('given exactly two dead-letter fixtures, then both are pricing missions with minRate above maxRate', () => {
    const marked = missions.filter(deadLetters);
    expect(marked).toHaveLength(2);
    for (const dto of marked) {
      expect(dto.type).toBe('pricing');
      expect(Number(dto.payload.minRate)).toBeGreaterThan(Number(dto.payload.maxRate));
    }
    expect(rawMissions.filter((raw) => JSON.stringify(raw).includes('expectedOutcome'))).toHaveLength(2);
  });

  it('given the agents, then there are at least 8 with unique ids, capacity 2..10 and 100 credits', () => {
    expect(agents.length).toBeGreaterThanOrEqual(8);
    expect(new Set(agents.map((a) => a.id)).size).toBe(agents.length);
    for (const agent of agents) {
      expect(agent.capacity).toBeGreaterThanOrEqual(2);
      expect(agent.capacity).toBeLessThanOrEqual(10);
      expect(agent.credits).toBe(100);
      expect(agent.model).toBeTruthy();
      expect(agent.systemPrompt.length).toBeGreaterThan(20);
    }
  });

  it('given the default skills, then each is carried by at least two agents', () => {
    for (const skills of Object.values(DEFAULT_SKILLS)) {
      for (const skill of skills) expect(agents.filter((a) => a.skills.includes(skill)).length).toBeGreaterThanOrEqual(2);
    }
  });

  it.each(missions.map((dto, i) => [label(dto, i), dto] as const))('given %s, then some agent has all its required skills', (_label, dto) => {
    expect(agents.some((agent) => skillsOf(dto).every((skill) => agent.skills.includes(skill)))).toBe(true);
  });

  describe('with MockLlmClient and RuleBasedJudge', () => {
    const quiet: MockLlmOptions = { latencyMs: 0, failureRate: 0, malformedRate: 0 };

    it.each(missions.map((dto, i) => [label(dto, i), dto, i] as const))(
      'given %s, when attempted up to 3 times, then it ends as expected',
      async (_label, dto, index) => {
        const verdicts = await runAttempts(dto, index, quiet);
        if (deadLetters(dto)) {
          expect(verdicts).toHaveLength(MAX_ATTEMPTS);
          expect(verdicts.every((v) => !v.passed && v.reason.includes('within_bounds'))).toBe(true);
        } else {
          expect(verdicts[verdicts.length - 1].passed).toBe(true);
        }
      },
    );

    it('given first drafts that are always flawed, when retried with feedback, then every passable fixture passes on attempt 2', async () => {
      for (const [index, dto] of missions.entries()) {
        if (deadLetters(dto)) continue;
        const verdicts = await runAttempts(dto, index, { ...quiet, flawRate: 1 });
        expect({ mission: label(dto, index), passedOn: verdicts.length, passed: verdicts[verdicts.length - 1].passed }).toEqual({
          mission: label(dto, index),
          passedOn: 2,
          passed: true,
        });
      }
    });
  });
});
