import { PinoLogger } from 'nestjs-pino';
import { AgentRegistry } from '@app/agents';
import { loadEnvironment } from '@app/config';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { LlmClient, LlmRequest, LlmResponse } from '@app/llm';
import { decideAssign, decideCreate, decideFail, Mission } from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { ConsumerHealth, MetricsRegistry } from '@app/runtime';
import { deleteKeysByPrefix, TEST_QUEUE_ORDER, testKeyPrefix, testPersonalData, waitFor, testRedis } from '@app/testing';
import { ExecutionMetrics } from '../../apps/executor/src/execution/execution-metrics';
import { ExecutionService } from '../../apps/executor/src/execution/execution.service';

/** An LLM call that answers only when the test releases it. */
class HeldLlm implements LlmClient {
  readonly provider = 'held';
  calls = 0;
  private releaseCall: () => void = () => undefined;
  release(): void {
    this.releaseCall();
  }
  async complete(_request: LlmRequest): Promise<LlmResponse> {
    this.calls += 1;
    await new Promise<void>((resolve) => (this.releaseCall = resolve));
    const output = { urgency: 'low', steps: ['Check the logbook', 'Book the inspector'], safetyNotes: [], parts: ['none'] };
    return { output, rawText: JSON.stringify(output), usage: { promptTokens: 1, completionTokens: 1 }, model: 'held', latencyMs: 1 };
  }
}

describe('a late result (real Redis)', () => {
  const prefix = testKeyPrefix('stale');
  const keys = new KeyLayout(prefix);
  const redis = testRedis();
  const store = new MissionStore(redis, keys);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given an attempt failed (timed out) while its call ran, when the result arrives, then it is counted as stale and changes nothing', async () => {
    const created = await store.append(
      'm-late',
      null,
      decideCreate({ type: 'maintenance', title: 'Elevator inspection due', description: '', priority: 'low', payload: {} }),
      { actor: 'test' },
    );
    if (created.code !== AppendCode.Ok) throw new Error('create failed');
    const assigned = await store.transition(created.mission, (m) => decideAssign(m, 'agent-a'), { actor: 'test' });
    if (assigned.kind !== 'appended') throw new Error('assign failed');

    const llm = new HeldLlm();
    const metrics = new ExecutionMetrics(new MetricsRegistry('executor'));
    const executor = new ExecutionService(
      new MissionPipeline(store, new ReadyQueue(redis, keys, TEST_QUEUE_ORDER)),
      store,
      keys,
      redis,
      new AgentRegistry(redis, keys),
      llm,
      loadEnvironment({ KEY_PREFIX: prefix }),
      new PinoLogger({ pinoHttp: { level: 'silent' } }),
      metrics,
      new ConsumerHealth(),
      testPersonalData(redis, prefix),
    );
    const execution = executor.execute(assigned.mission);
    await waitFor(async () => llm.calls === 1, { timeoutMs: 5_000, what: 'the LLM call to start' });

    await store.transition('m-late', (m) => decideFail(m, 1, 'attempt timed out'), { actor: 'test' });
    llm.release();
    await execution;

    const history = await store.history('m-late');
    expect(history.map((e) => e.type)).toEqual(['MissionCreated', 'MissionQueued', 'MissionAssigned', 'MissionStarted', 'MissionFailed']);
    expect((await metrics.staleResults.get()).values[0]?.value).toBe(1);
    expect(((await store.load('m-late')) as Mission).lastError).toBe('attempt timed out');
  });
});
