import { FakeChatCompletionsServer } from '@app/testing';
import { BUILD_TIMEOUT_MS, buildOnce, readHistories, Scenario, Workload } from './support';
import { validReply } from './support/llm-replies';

const EXECUTION_TIMEOUT_MS = 1_000;
const HANGING_REPLIES = 40;
const MISSIONS = 2_000;

/**
 * Scenario 6: the executor talks to an OpenAI-compatible server (a local fake) whose first 40
 * replies hang for a minute, far beyond EXECUTION_TIMEOUT_MS = 1 s; after that it answers with
 * valid, rubric-passing outputs. LLM_MAX_RETRIES = 0, so each hang is one failed attempt: the
 * timeout must fire, the agent's slot must be freed, and the mission must be retried and finish.
 */
describe('fault: an LLM provider that hangs', () => {
  const llm = new FakeChatCompletionsServer();
  llm.fallback = validReply;
  let scenario: Scenario;

  beforeAll(async () => {
    buildOnce();
    const baseUrl = await llm.start();
    llm.enqueue(...Array.from({ length: HANGING_REPLIES }, () => ({ status: 200 as const, content: '{}', delayMs: 60_000 })));
    scenario = new Scenario('llm-hang', {
      env: { MAX_ATTEMPTS: '4' },
      serviceEnv: {
        executor: {
          LLM_PROVIDER: 'openai',
          LLM_BASE_URL: baseUrl,
          LLM_API_KEY: 'fake-key',
          LLM_MODEL: 'fake-model',
          LLM_MAX_RETRIES: '0',
          EXECUTION_TIMEOUT_MS: String(EXECUTION_TIMEOUT_MS),
        },
      },
    });
    await scenario.processes.start();
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await scenario?.close();
    await llm.stop();
  }, 30_000);

  it(`given ${MISSIONS} missions and ${HANGING_REPLIES} hanging LLM replies, then each hang times out after ~${EXECUTION_TIMEOUT_MS} ms, frees the agent, and the mission is retried and finishes`, async () => {
    scenario.sampleInvariants();
    const workload = new Workload(scenario.redis, scenario.prefix, { total: MISSIONS, batchSize: 50, intervalMs: 100, tag: 'hang' }).start();
    await workload.done;
    const report = await scenario.outcome(workload.ackedIds, { timeoutMs: 90_000, expected: workload.expectedOf() });

    // Every hung attempt: MissionStarted → MissionFailed (timeout) → MissionQueued (retry) → a new assignment.
    const histories = await readHistories(scenario.redis, scenario.keys);
    const timeouts: { id: string; waitedMs: number; retried: boolean; finalStatus: string }[] = [];
    for (const id of workload.ackedIds) {
      const events = histories.get(id) ?? [];
      events.forEach((event, i) => {
        if (event.type !== 'MissionFailed' || !/did not answer within/.test(String((event.data as { error?: string }).error))) return;
        const attempt = (event.data as { attempt: number }).attempt;
        const started = events.find((e) => e.type === 'MissionStarted' && (e.data as { attempt: number }).attempt === attempt);
        const later = events.slice(i + 1);
        timeouts.push({
          id,
          waitedMs: started ? Date.parse(event.at) - Date.parse(started.at) : -1,
          retried: later.some((e) => e.type === 'MissionQueued') && later.some((e) => e.type === 'MissionAssigned'),
          finalStatus: events[events.length - 1].type,
        });
      });
    }
    const waited = timeouts.map((t) => t.waitedMs).sort((a, b) => a - b);
    scenario.summarize(report, {
      llmRequests: llm.requests.length,
      hangingRepliesLeft: llm.pending,
      timeouts: timeouts.length,
      timeoutWaitMs: { min: waited[0], p50: waited[Math.floor(waited.length / 2)], max: waited[waited.length - 1] },
    });

    // Every hanging reply became a timeout; on a loaded machine a normal reply from this (busy) test
    // process may also come too late, which is one more timeout and changes nothing else.
    expect(llm.pending).toBe(0);
    expect(timeouts.length).toBeGreaterThanOrEqual(HANGING_REPLIES);
    expect(timeouts.filter((t) => !t.retried)).toEqual([]);
    // The timeout fires at EXECUTION_TIMEOUT_MS (slack for a loaded machine), not when the server gives up after a minute.
    expect(waited[0]).toBeGreaterThanOrEqual(EXECUTION_TIMEOUT_MS - 50);
    expect(waited[waited.length - 1]).toBeLessThan(EXECUTION_TIMEOUT_MS + 9_000);
    expect(report.stats.deadLetteredByFaults).toBe(0);
    expect(workload.ackedCount).toBe(MISSIONS);
    expect(report.violations).toEqual([]);
    expect(scenario.processes.crashes).toEqual([]);
  }, 180_000);
});
