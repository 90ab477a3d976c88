import Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { AgentRegistry } from '@app/agents';
import { loadEnvironment } from '@app/config';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { LlmClient, OpenAiLlmClient } from '@app/llm';
import { decideAssign, decideCancel, decideCreate, decideFail, Mission } from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { DailyReportProjection, DailyReportReader, ProjectionRunner } from '@app/projections';
import { ConsumerHealth, MetricsRegistry } from '@app/runtime';
import {
  deleteKeysByPrefix,
  FakeChatCompletionsServer,
  HeldLlmClient,
  redisUrl,
  TEST_QUEUE_ORDER,
  testKeyPrefix,
  testPersonalData,
  waitFor,
  testRedis,
} from '@app/testing';
import { ExecutionMetrics } from '../../apps/executor/src/execution/execution-metrics';
import { ExecutionService } from '../../apps/executor/src/execution/execution.service';
import { ReplyDroppingProxy } from '../support/reply-dropping-proxy';

describe('a late result (real Redis)', () => {
  const prefix = testKeyPrefix('stale');
  const keys = new KeyLayout(prefix);
  const redis = testRedis();
  const store = new MissionStore(redis, keys);

  /** An executor whose Redis is `connection`; it is not bootstrapped, so no cancel check aborts its calls: the test decides when a reply comes. */
  const executorOn = (connection: Redis, llm: LlmClient) => {
    const metrics = new ExecutionMetrics(new MetricsRegistry('executor'));
    const executorStore = new MissionStore(connection, keys);
    const executor = new ExecutionService(
      new MissionPipeline(executorStore, new ReadyQueue(connection, keys, TEST_QUEUE_ORDER)),
      executorStore,
      keys,
      connection,
      new AgentRegistry(connection, keys),
      llm,
      loadEnvironment({ KEY_PREFIX: prefix }),
      new PinoLogger({ pinoHttp: { level: 'silent' } }),
      metrics,
      new ConsumerHealth(),
      testPersonalData(connection, prefix),
    );
    return { executor, metrics };
  };

  /** A maintenance mission created and assigned to agent-a, ready for the executor. */
  const assignedMission = async (missionId: string): Promise<Mission> => {
    const created = await store.append(
      missionId,
      null,
      decideCreate({ type: 'maintenance', title: 'Elevator inspection due', description: '', priority: 'low', payload: {} }),
      { actor: 'test' },
    );
    if (created.code !== AppendCode.Ok) throw new Error('create failed');
    const assigned = await store.transition(created.mission, (m) => decideAssign(m, 'agent-a'), { actor: 'test' });
    if (assigned.kind !== 'appended') throw new Error('assign failed');
    return assigned.mission;
  };

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given an attempt failed (timed out) while its call ran, when the result arrives, then it is counted as stale, changes no status and records what it was billed', async () => {
    const assigned = { mission: await assignedMission('m-late') };

    const output = { urgency: 'low', steps: ['Check the logbook', 'Book the inspector'], safetyNotes: [], parts: ['none'] };
    const llm = new HeldLlmClient(async () => ({
      output,
      rawText: JSON.stringify(output),
      usage: { promptTokens: 1, completionTokens: 1 },
      model: 'held',
      latencyMs: 1,
    }));
    const { executor, metrics } = executorOn(redis, llm);
    const execution = executor.execute(assigned.mission);
    await waitFor(async () => llm.calls === 1, { timeoutMs: 5_000, what: 'the LLM call to start' });

    await store.transition('m-late', (m) => decideFail(m, 1, 'attempt timed out'), { actor: 'test' });
    llm.release();
    await execution;

    const history = await store.history('m-late');
    expect(history.map((e) => e.type)).toEqual(['MissionCreated', 'MissionQueued', 'MissionAssigned', 'MissionStarted', 'MissionFailed', 'LateReplyBilled']);
    expect(history[5]).toMatchObject({ actor: 'executor', data: { attempt: 1, agentId: 'agent-a', usage: { promptTokens: 1, completionTokens: 1 } } });
    expect((await metrics.staleResults.get()).values[0]?.value).toBe(1);
    expect(((await store.load('m-late')) as Mission).lastError).toBe('attempt timed out');
  });

  describe('given a provider that answers a cancelled attempt with a billed reply, and a connection that loses the reply to its record', () => {
    const server = new FakeChatCompletionsServer();
    const target = new URL(redisUrl());
    // The first append of the late reply takes effect, its reply is lost, and ioredis sends it again.
    const proxy = new ReplyDroppingProxy({ host: target.hostname, port: Number(target.port || 6379) }, (sent) =>
      sent.includes('"type":"LateReplyBilled"') ? 'LateReplyBilled' : null,
    );
    const proxied = () => new Redis(proxy.url, { lazyConnect: true });
    let executorRedis: Redis | undefined;

    beforeAll(async () => {
      await server.start();
      await proxy.start();
    });
    afterAll(async () => {
      await executorRedis?.quit();
      await proxy.stop();
      await server.stop();
    });

    it('when the attempt is cancelled while its call is in flight and the reply comes, then the log holds its cost once and the daily report counts it', async () => {
      // The report of the prefix as it stands, so what this mission adds to it shows apart from the other tests' missions.
      const projection = new DailyReportProjection(keys);
      const reportRow = async (day: string) => {
        await new ProjectionRunner(redis, keys, projection).catchUp();
        return (await new DailyReportReader(redis, projection).read(day, day, ['maintenance'])).rows[0];
      };
      const before = await reportRow(new Date().toISOString().slice(0, 10));
      const assigned = await assignedMission('m-late-billed');
      let answer: () => void = () => undefined;
      const output = { urgency: 'low', steps: ['Check the logbook', 'Book the inspector'], safetyNotes: [], parts: ['none'] };
      server.enqueue({
        status: 200,
        content: JSON.stringify(output),
        usage: { promptTokens: 1200, completionTokens: 300 },
        until: new Promise<void>((resolve) => (answer = resolve)),
      });
      const llm = new OpenAiLlmClient({
        baseUrl: server.baseUrl,
        apiKey: 'test',
        model: 'house-model',
        maxRetries: 0,
        prices: { 'house-model': { inputPerMillion: 1, outputPerMillion: 3 } },
      });
      executorRedis = proxied();
      const { executor, metrics } = executorOn(executorRedis, llm);

      const execution = executor.execute(assigned);
      await waitFor(async () => server.requests.length === 1, { timeoutMs: 5_000, what: 'the LLM call to reach the provider' });
      const cancelled = await store.transition('m-late-billed', (m) => decideCancel(m, 'guest checked out'), { actor: 'test' });
      expect(cancelled.kind).toBe('appended');
      answer();
      await execution;

      expect(proxy.trips.map((trip) => trip.label)).toEqual(['LateReplyBilled']);
      const history = await store.history('m-late-billed');
      expect(history.map((e) => e.type)).toEqual([
        'MissionCreated',
        'MissionQueued',
        'MissionAssigned',
        'MissionStarted',
        'MissionCancelled',
        'LateReplyBilled',
      ]);
      const late = history[5];
      expect(late).toMatchObject({ actor: 'executor', data: { attempt: 1, agentId: 'agent-a', usage: { promptTokens: 1200, completionTokens: 300 } } });
      expect(late.type === 'LateReplyBilled' ? late.data.costUsd : undefined).toBeCloseTo(0.0021, 10);
      expect(late.type === 'LateReplyBilled' ? late.data.runId : undefined).toBe(history[3].type === 'MissionStarted' ? history[3].data.runId : 'no start');
      expect(await store.load('m-late-billed')).toMatchObject({ status: 'cancelled', attempts: 1 });
      expect((await metrics.staleResults.get()).values[0]?.value).toBe(1);

      const after = await reportRow(late.at.slice(0, 10));
      const added = (metric: 'created' | 'attempts' | 'failedAttempts' | 'cancelled' | 'promptTokens' | 'completionTokens' | 'costUsd') =>
        after[metric] - (late.at.startsWith(before.day) ? before[metric] : 0);
      expect({ created: added('created'), attempts: added('attempts'), failedAttempts: added('failedAttempts'), cancelled: added('cancelled') }).toEqual({
        created: 1,
        attempts: 1,
        failedAttempts: 0,
        cancelled: 1,
      });
      expect({ promptTokens: added('promptTokens'), completionTokens: added('completionTokens') }).toEqual({ promptTokens: 1200, completionTokens: 300 });
      expect(added('costUsd')).toBeCloseTo(0.0021, 10);
    });
  });
});
