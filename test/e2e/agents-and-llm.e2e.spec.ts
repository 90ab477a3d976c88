import Redis from 'ioredis';
import request from 'supertest';
import { readLog } from '@app/event-store';
import { MissionCreateDto, MissionEvent } from '@app/mission';
import { MissionClient } from '@app/mission-client';
import { DailyReport } from '@app/projections';
import { RedisConnection } from '@app/redis';
import { FakeChatCompletionsServer, ReceivedRequest, ScriptedReply, waitFor, testRedis } from '@app/testing';
import { orchestratorService } from '../../apps/orchestrator/src/orchestrator.definition';
import { InProcessSystem, startInProcessSystem, TEST_KEYS } from '../support/in-process-system';

const maintenance: MissionCreateDto = {
  type: 'maintenance',
  title: 'Leaking tap in room 118',
  description: 'The bathroom tap drips all night.',
  priority: 'normal',
  payload: { room: '118', issue: 'leaking tap' },
};
const goodMaintenanceReply = JSON.stringify({
  urgency: 'medium',
  steps: ['Close the water supply under the basin', 'Replace the cartridge of the tap', 'Check for drips for ten minutes'],
  safetyNotes: ['Dry the floor to avoid slipping'],
  parts: ['tap cartridge 35 mm'],
});
/** The scripted reply (175) is above the ceiling: every attempt fails, though a better answer could pass. */
const cappedPricing: MissionCreateDto = {
  type: 'pricing',
  title: 'Weekend rate under a ceiling',
  description: 'The channel manager caps the weekend rate.',
  priority: 'high',
  payload: { currentRate: 150, minRate: 120, maxRate: 169 },
};
/** A floor above the ceiling: no answer can pass. */
const conflictingPricing: MissionCreateDto = {
  type: 'pricing',
  title: 'Weekend rate with conflicting floors',
  description: 'Two channel managers set different floors.',
  priority: 'high',
  payload: { currentRate: 150, minRate: 189, maxRate: 169 },
};
const pricingReply = JSON.stringify({
  recommendedRate: 175,
  currency: 'EUR',
  changePercent: 16.7,
  reason: 'Demand is strong this weekend and competitors are higher.',
});

describe('LLM providers and agents (four services, real Redis)', () => {
  describe('given the openai provider against a local chat-completions server', () => {
    const llm = new FakeChatCompletionsServer();
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startWithOpenAi('e2e-openai', llm, { MAX_ATTEMPTS: '3' }, { EXECUTION_TIMEOUT_MS: '1000', LLM_MAX_RETRIES: '2' });
    });
    afterAll(async () => {
      await system.close();
      await llm.stop();
    });

    const run = async (mission: MissionCreateDto, ...script: ScriptedReply[]) => {
      llm.reset();
      llm.enqueue(...script);
      const created = await system.api.post('/api/missions').send(mission).expect(201);
      return system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered']);
    };

    it('when the server answers 200, then the mission succeeds with usage and cost recorded', async () => {
      const done = await run(maintenance, { status: 200, content: goodMaintenanceReply, usage: { promptTokens: 1000, completionTokens: 200 } });
      expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(done.result).toMatchObject({ model: 'gpt-4o-mini', usage: { promptTokens: 1000, completionTokens: 200 } });
      expect(done.result?.costUsd).toBeCloseTo((1000 * 0.15 + 200 * 0.6) / 1e6, 10);
      const [request] = llm.requests;
      expect(request.headers.authorization).toBe('Bearer sk-test');
      expect(JSON.stringify(request.body.response_format)).toContain('maintenance_output');
      expect(request.body.max_completion_tokens).toBe(2000);
    });

    it('when the server answers 429 with Retry-After and then 500, then the client retries and the mission succeeds in one attempt', async () => {
      const done = await run(maintenance, { status: 429, retryAfterSeconds: 1 }, { status: 500 }, { status: 200, content: goodMaintenanceReply });
      expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(llm.requests).toHaveLength(3);
      expect(llm.requests[1].receivedAt - llm.requests[0].receivedAt).toBeGreaterThanOrEqual(990);
    });

    it('when a reply is malformed or slower than the timeout, then that attempt fails and the next one succeeds', async () => {
      const malformed = await run(maintenance, { malformed: true }, { status: 200, content: goodMaintenanceReply });
      expect(malformed).toMatchObject({ status: 'succeeded', attempts: 2 });
      const slow = await run(
        maintenance,
        { status: 200, content: goodMaintenanceReply, delayMs: 5_000 },
        { status: 200, content: goodMaintenanceReply, delayMs: 5_000 },
        { status: 200, content: goodMaintenanceReply, delayMs: 5_000 },
        { status: 200, content: goodMaintenanceReply },
      );
      expect(slow.status).toBe('succeeded');
      const failures = (await system.store.history(slow.id)).filter((e) => e.type === 'MissionFailed');
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(failures[0].data)).toMatch(/did not answer within 1000 ms/);
      await system.waitForIdleAgents();
    });

    it('when every result fails evaluation, then it is dead-lettered with one MissionEvaluated per attempt and the feedback reaches the next request', async () => {
      llm.reset();
      llm.fallback = () => ({ status: 200, content: pricingReply });
      const created = await system.api.post('/api/missions').send(cappedPricing).expect(201);
      const done = await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered']);
      expect(done).toMatchObject({ status: 'dead_lettered', attempts: 3 });
      const events = await system.store.history(done.id);
      const verdicts = events.filter((e): e is Extract<MissionEvent, { type: 'MissionEvaluated' }> => e.type === 'MissionEvaluated');
      expect(verdicts.map((v) => [v.data.attempt, v.data.passed])).toEqual([
        [1, false],
        [2, false],
        [3, false],
      ]);
      expect(verdicts[0].data.reason).toMatch(/within_bounds/);
      const prompts = llm.requests.map((r: ReceivedRequest) => JSON.stringify(r.body.messages));
      expect(prompts).toHaveLength(3);
      expect(prompts[0]).not.toMatch(/within_bounds/);
      expect(prompts[1]).toMatch(/within_bounds/);
      expect(prompts[2]).toMatch(/within_bounds/);
      const agents = events.flatMap((e) => (e.type === 'MissionAssigned' ? [e.data.agentId] : []));
      expect(new Set(agents).size).toBe(agents.length);
    });

    it('when the mission itself is contradictory, then its first failed verdict dead-letters it as a permanent failure', async () => {
      llm.reset();
      llm.fallback = () => ({ status: 200, content: pricingReply });
      const created = await system.api.post('/api/missions').send(conflictingPricing).expect(201);
      const done = await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered']);
      expect(done).toMatchObject({ status: 'dead_lettered', attempts: 1 });
      const deadLettered = (await system.store.history(done.id)).find((e) => e.type === 'MissionDeadLettered');
      expect(deadLettered?.data).toMatchObject({ reason: expect.stringMatching(/^permanent failure: minRate 189 is above maxRate 169/) });
      expect(llm.requests).toHaveLength(1);
    });
  });

  describe('given a provider that bills replies it cuts off at the token limit', () => {
    const llm = new FakeChatCompletionsServer();
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startWithOpenAi('e2e-openai-billed', llm, { MAX_ATTEMPTS: '2', RETRY_BASE_MS: '0' });
    });
    afterAll(async () => {
      await system.close();
      await llm.stop();
    });

    it('then every rejected 200 counts its tokens and cost in the metrics, on its MissionFailed and in the daily report', async () => {
      const usage = { promptTokens: 1000, completionTokens: 2000 };
      const cost = (1000 * 0.15 + 2000 * 0.6) / 1e6;
      llm.fallback = () => ({ status: 200, content: goodMaintenanceReply.slice(0, 60), usage, finishReason: 'length' });
      const created = await system.api.post('/api/missions').send(maintenance).expect(201);
      const done = await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered']);
      expect(done).toMatchObject({ status: 'dead_lettered', attempts: 2 });

      const failures = (await system.store.history(done.id)).filter((e) => e.type === 'MissionFailed');
      expect(failures.map((e) => e.data)).toEqual([1, 2].map(() => expect.objectContaining({ usage, costUsd: expect.closeTo(cost, 12) as number })));

      const metrics = (await request(system.apps[2].getHttpServer()).get('/metrics').expect(200)).text;
      // Summed over the series that match: each attempt ran on another agent.
      const sample = (pattern: RegExp) => [...metrics.matchAll(pattern)].reduce((sum, match) => sum + Number(match[1]), 0);
      expect(sample(/^brain_llm_request_tokens_total\{[^}]*model="gpt-4o-mini"[^}]*kind="completion"[^}]*\} (\S+)$/gm)).toBe(4000);
      expect(sample(/^brain_llm_request_tokens_total\{[^}]*model="gpt-4o-mini"[^}]*kind="prompt"[^}]*\} (\S+)$/gm)).toBe(2000);
      expect(sample(/^brain_llm_cost_usd_total\{[^}]*model="gpt-4o-mini"[^}]*\} (\S+)$/gm)).toBeCloseTo(2 * cost, 12);
      expect(sample(/^brain_llm_tokens_total\{[^}]*kind="completion"[^}]*\} (\S+)$/gm)).toBe(4000);

      const report = await maintenanceReport(system, (today) => today?.deadLettered === 1, 'the dead-lettered mission');
      expect(report.rows.at(-1)).toMatchObject({ failedAttempts: 2, promptTokens: 2000, completionTokens: 4000 });
      expect(report.rows.at(-1)?.costUsd).toBeCloseTo(2 * cost, 12);
    });
  });

  describe('given JUDGE=llm with the mock provider (allowed explicitly)', () => {
    let system: InProcessSystem;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-llm-judge', {}, { evaluator: { JUDGE: 'llm', JUDGE_ALLOW_MOCK: 'true' } });
    });
    afterAll(async () => system.close());

    it('then the verdict comes from the LLM judge, scored against the same rubric', async () => {
      const created = await system.api.post('/api/missions').send(maintenance).expect(201);
      const done = await system.waitForStatus(created.body.id, ['succeeded', 'dead_lettered']);
      expect(done.status).toBe('succeeded');
      expect(done.evaluation).toMatchObject({ judge: 'llm:mock-hotel-1', rubricVersion: 'maintenance@1', passed: true });

      // The judge's call is billed as the agent's is: the daily report counts both.
      const judged = done.evaluation?.usage;
      const drafted = done.result?.usage;
      expect(judged?.promptTokens).toBeGreaterThan(0);
      const report = await maintenanceReport(system, (today) => today?.succeeded === 1, 'the judged mission');
      expect(report.rows.at(-1)).toMatchObject({
        promptTokens: (drafted?.promptTokens ?? 0) + (judged?.promptTokens ?? 0),
        completionTokens: (drafted?.completionTokens ?? 0) + (judged?.completionTokens ?? 0),
      });
    });
  });

  describe('given two orchestrators and a burst of 500 missions', () => {
    let system: InProcessSystem;
    let sender: Redis;
    beforeAll(async () => {
      system = await startInProcessSystem('e2e-capacity', { MOCK_LLM_LATENCY_MS: '20' });
      await system.addInstance(orchestratorService);
      sender = testRedis();
    });
    afterAll(async () => {
      await sender.quit();
      await system.close();
    });

    it('then no agent ever holds more missions than its capacity, and all finish', async () => {
      const capacity = Object.fromEntries(Object.entries(await system.redis.hgetall(system.keys.agentCapacity)).map(([id, c]) => [id, Number(c)]));
      const missions = Array.from({ length: 500 }, (_, i) => ({ ...maintenance, title: `Burst ${i}`, priority: (['low', 'high'] as const)[i % 2] }));
      const ids = await new MissionClient(sender, system.prefix).createMany(missions);
      let peakOver = 0;
      await waitFor(
        async () => {
          const loads = await system.redis.hgetall(system.keys.agentLoad);
          for (const [id, load] of Object.entries(loads)) peakOver = Math.max(peakOver, Number(load) - capacity[id]);
          return (await system.statusCount('succeeded')) >= ids.length;
        },
        { timeoutMs: 60_000, intervalMs: 10, what: '500 missions succeeded' },
      );
      expect(peakOver).toBeLessThanOrEqual(0);

      // From the log: replay assignments and releases per agent; concurrent holds never exceed capacity.
      const holding = new Map<string, number>();
      const holder = new Map<string, string>();
      let worst = 0;
      const events = (await Promise.all(system.keys.partitions.map((partition) => allEvents(system.redis, partition.log)))).flat();
      // Across partitions by time; on a tie the end of an attempt goes first, as its slot is freed before any reuse.
      const ends = (event: MissionEvent) => (event.type === 'MissionAssigned' ? 1 : 0);
      events.sort((a, b) => a.at.localeCompare(b.at) || ends(a) - ends(b));
      {
        for (const event of events) {
          if (event.type === 'MissionAssigned') {
            holder.set(event.missionId, event.data.agentId);
            holding.set(event.data.agentId, (holding.get(event.data.agentId) ?? 0) + 1);
            worst = Math.max(worst, (holding.get(event.data.agentId) ?? 0) - capacity[event.data.agentId]);
          } else if (['MissionEvaluated', 'MissionFailed', 'MissionCancelled'].includes(event.type) && holder.has(event.missionId)) {
            const agent = holder.get(event.missionId) ?? '';
            holding.set(agent, (holding.get(agent) ?? 1) - 1);
            holder.delete(event.missionId);
          }
        }
      }
      expect(worst).toBeLessThanOrEqual(0);
      await system.waitForIdleAgents();
    });
  });
});

/** The daily report on maintenance missions once it has caught up with the log and `counted` holds for its last day. */
async function maintenanceReport(
  system: InProcessSystem,
  counted: (today: DailyReport['rows'][number] | undefined) => boolean,
  what: string,
): Promise<DailyReport> {
  return waitFor(
    async () => {
      const body = (
        await request(system.intake.getHttpServer())
          .get('/api/reports/daily')
          .query({ type: 'maintenance' })
          .set('Authorization', `Bearer ${TEST_KEYS.reader}`)
          .expect(200)
      ).body as DailyReport;
      return body.lagEvents === 0 && counted(body.rows.at(-1)) ? body : null;
    },
    { timeoutMs: 10_000, what: `the daily report to count ${what}` },
  );
}

/** The four services, the executor on the openai provider (gpt-4o-mini, replies of at most 2000 tokens) against `llm`. */
async function startWithOpenAi(
  name: string,
  llm: FakeChatCompletionsServer,
  env: Record<string, string>,
  executorEnv: Record<string, string> = {},
): Promise<InProcessSystem> {
  const baseUrl = await llm.start();
  const executor = {
    LLM_PROVIDER: 'openai',
    LLM_BASE_URL: baseUrl,
    LLM_MODEL: 'gpt-4o-mini',
    LLM_API_KEY: 'sk-test',
    LLM_MAX_OUTPUT_TOKENS: '2000',
    ...executorEnv,
  };
  return startInProcessSystem(name, env, { executor });
}

async function allEvents(redis: RedisConnection, log: string): Promise<MissionEvent[]> {
  const events: MissionEvent[] = [];
  for await (const batch of readLog(redis, log, 5_000)) events.push(...batch.events);
  return events;
}
