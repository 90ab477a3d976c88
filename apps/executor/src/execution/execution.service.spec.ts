import { ReplyError } from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { AgentRegistry } from '@app/agents';
import { loadEnvironment } from '@app/config';
import { AppendCode, AppendContext, AppendResult, EffectsOf, KeyLayout, MissionStore } from '@app/event-store';
import { LlmClient, LlmError, LlmErrorCode, LlmRequest, LlmResponse } from '@app/llm';
import { MessagePattern } from '@app/messages';
import {
  decideAssign,
  decideCancel,
  decideCreate,
  decideFailure,
  decideOverdue,
  decideStart,
  Mission,
  MissionCreateDto,
  MissionEventType,
  NewMissionEvent,
} from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { decodeMessage, RedisStreamsContext } from '@app/redis-streams';
import { ConsumerHealth, MetricsRegistry } from '@app/runtime';
import { deleteKeysByPrefix, TEST_QUEUE_ORDER, testKeyPrefix, testPersonalData, waitFor, testRedis } from '@app/testing';
import { ExecutionMetrics } from './execution-metrics';
import { ExecutionConsumer } from './execution.consumer';
import { ExecutionService } from './execution.service';

const inspection: MissionCreateDto = {
  type: 'maintenance',
  title: 'Elevator inspection due',
  description: '',
  priority: 'normal',
  requiredSkills: ['plumbing'],
  payload: {},
};
const ANSWER = { urgency: 'low', steps: ['Check the logbook', 'Book the inspector'], safetyNotes: [], parts: ['none'] };
const LEASE_MS = 30_000;

/** One LLM call as the test sees it: what it was asked, and how to end it. */
interface HeldCall {
  request: LlmRequest;
  answer(): void;
  fail(error: LlmError): void;
}

/**
 * The external LLM, under the test's control: each call answers at once, fails at once, answers
 * after `answerAfterMs` of its own, or is held until the test ends it. Like a real client it
 * gives up when the request's signal aborts.
 */
class ControlledLlm implements LlmClient {
  readonly provider = 'controlled';
  readonly calls: HeldCall[] = [];

  constructor(
    private readonly behaviour:
      | { kind: 'answer' }
      | { kind: 'fail' }
      | { kind: 'reject' }
      | { kind: 'rate-limit'; retryAfterMs: number }
      | { kind: 'hold' }
      | { kind: 'answer-after'; ms: number },
  ) {}

  complete(request: LlmRequest): Promise<LlmResponse> {
    return new Promise((resolve, reject) => {
      const call: HeldCall = {
        request,
        answer: () =>
          resolve({ output: ANSWER, rawText: JSON.stringify(ANSWER), usage: { promptTokens: 3, completionTokens: 5 }, model: 'controlled', latencyMs: 1 }),
        fail: reject,
      };
      this.calls.push(call);
      request.signal?.addEventListener('abort', () => reject(new LlmError(LlmErrorCode.Aborted, 'aborted', true)), { once: true });
      if (this.behaviour.kind === 'answer') call.answer();
      if (this.behaviour.kind === 'fail') call.fail(new LlmError(LlmErrorCode.ProviderError, 'provider returned 502', true));
      if (this.behaviour.kind === 'reject') call.fail(new LlmError(LlmErrorCode.ProviderError, 'provider rejected the request: 400 unknown model', false));
      if (this.behaviour.kind === 'rate-limit')
        call.fail(new LlmError(LlmErrorCode.RateLimited, 'provider kept rate-limiting (HTTP 429)', true, this.behaviour.retryAfterMs));
      if (this.behaviour.kind === 'answer-after') setTimeout(call.answer, this.behaviour.ms);
    });
  }
}

/**
 * The event store, watched: it records the event types of every append that took effect, and can
 * lose the reply to one, as a dropped connection does: the script ran, the client never heard
 * and sends the same command again (ioredis resends unanswered commands after reconnecting). It
 * can also fail appends outright.
 */
class WatchedStore extends MissionStore {
  readonly appends: MissionEventType[][] = [];
  loseReplyTo: MissionEventType | null = null;
  /** Runs after the append whose reply is lost and before it is sent again: what others appended meanwhile. */
  beforeResend: (() => Promise<unknown>) | null = null;
  /** Appends starting with this event type fail, with an error retrying does not help (a broken script). */
  failAppendsOf: MissionEventType | null = null;
  /** The next appends starting with this event type are refused as Redis refuses a write once maxmemory is reached. */
  refuse: { type: MissionEventType; times: number } | null = null;
  /**
   * The next append starting with this event type takes effect, and then the connection drops
   * before its reply: the caller gets ioredis's error and cannot know the append was made.
   */
  dropConnectionAfter: MissionEventType | null = null;

  override async append(
    missionId: string,
    mission: Mission | null,
    events: readonly NewMissionEvent[],
    context: AppendContext,
    effects?: EffectsOf,
  ): Promise<AppendResult> {
    if (events[0]?.type === this.failAppendsOf) throw new Error('ERR user_script:1: a broken script');
    if (this.refuse && events[0]?.type === this.refuse.type && this.refuse.times-- > 0)
      throw new ReplyError("OOM command not allowed when used memory > 'maxmemory'. script: append-mission-events");
    const result = await super.append(missionId, mission, events, context, effects);
    if (result.code === AppendCode.Ok) this.appends.push(result.events.map((event) => event.type));
    if (result.code === AppendCode.Ok && events[0]?.type === this.dropConnectionAfter) {
      this.dropConnectionAfter = null;
      throw new Error('Connection is closed.');
    }
    if (result.code !== AppendCode.Ok || events[0]?.type !== this.loseReplyTo) return result;
    this.loseReplyTo = null;
    await this.beforeResend?.();
    return super.append(missionId, mission, events, context, effects);
  }
}

describe('ExecutionService (real Redis, no services)', () => {
  const redis = testRedis();
  const prefixes: string[] = [];

  function setup(llm: ControlledLlm, env: Record<string, string> = {}) {
    const prefix = testKeyPrefix('executor');
    prefixes.push(prefix);
    const keys = new KeyLayout(prefix);
    const store = new WatchedStore(redis, keys);
    const queue = new ReadyQueue(redis, keys, TEST_QUEUE_ORDER);
    const pipeline = new MissionPipeline(store, queue);
    const metrics = new ExecutionMetrics(new MetricsRegistry('executor'));
    const executor = new ExecutionService(
      pipeline,
      store,
      keys,
      redis,
      new AgentRegistry(redis, keys),
      llm,
      loadEnvironment({ KEY_PREFIX: prefix, RETRY_BASE_MS: '0', ...env }),
      new PinoLogger({ pinoHttp: { level: 'silent' } }),
      metrics,
      new ConsumerHealth(),
      testPersonalData(redis, prefix),
    );
    const partition = keys.partitions[0];

    /** A mission as the orchestrator hands it over: created, leased and assigned on that lease. */
    const assign = async (id: string, create = inspection): Promise<Mission> => {
      const created = await pipeline.append(id, null, decideCreate(create), { actor: 'test' });
      if (created.code !== AppendCode.Ok) throw new Error(`create ${id} failed`);
      const [{ mission: leased }] = await queue.lease(0, 1, LEASE_MS, `lease-${id}`);
      const assigned = await pipeline.transition(leased, (m) => decideAssign(m, 'agent-pia'), { actor: 'test', leaseId: `lease-${id}` });
      if (assigned.kind !== 'appended') throw new Error(`assign ${id} failed`);
      store.appends.length = 0;
      return assigned.mission;
    };
    const typesOf = async (id: string) => (await store.history(id)).map((event) => event.type);
    /** The messages with `pattern` on the stream of the service that consumes them. */
    const messages = async (stream: string, pattern: MessagePattern) =>
      (await redis.xrange(stream, '-', '+'))
        .map(([id, fields]) => decodeMessage(id, fields))
        .filter((message) => message.pattern === pattern)
        .map((message) => message.data);
    const released = () => messages(partition.stream('orchestrator'), 'agent.released');
    const completedMessages = () => messages(partition.stream('evaluator'), 'mission.completed');
    return { keys, partition, store, queue, pipeline, metrics, executor, assign, typesOf, released, completedMessages };
  }

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  describe('an attempt', () => {
    it('given an assigned mission and an LLM that answers, when it is executed, then it starts and completes and the evaluator gets the completed mission', async () => {
      const llm = new ControlledLlm({ kind: 'answer' });
      const { store, executor, assign, typesOf, completedMessages, released } = setup(llm);
      const assigned = await assign('m-1');

      await executor.execute(assigned);

      expect(store.appends).toEqual([['MissionStarted'], ['MissionCompleted']]);
      expect(await typesOf('m-1')).toEqual(['MissionCreated', 'MissionQueued', 'MissionAssigned', 'MissionStarted', 'MissionCompleted']);
      const completed = await store.load('m-1');
      expect(completed).toMatchObject({ status: 'evaluating', attempts: 1, result: { output: ANSWER, model: 'controlled' } });
      expect(await completedMessages()).toEqual([{ mission: completed }]);
      expect(await released()).toEqual([]);
      expect(llm.calls).toHaveLength(1);
    });

    it('given an LLM that fails and attempts left, when it is executed, then the failure and the next attempt are one append, the agent is released and the mission is ready again', async () => {
      const { store, queue, executor, assign, released, completedMessages } = setup(new ControlledLlm({ kind: 'fail' }), { MAX_ATTEMPTS: '3' });
      const assigned = await assign('m-1');

      await executor.execute(assigned);

      expect(store.appends).toEqual([['MissionStarted'], ['MissionFailed', 'MissionQueued']]);
      const [failed, queued] = (await store.history('m-1')).slice(-2);
      expect(queued.version).toBe(failed.version + 1);
      expect(queued.at).toBe(failed.at);
      expect(await store.load('m-1')).toMatchObject({ status: 'queued', attempts: 1, lastError: 'provider returned 502' });
      expect(await released()).toEqual([{ agentId: 'agent-pia', missionId: 'm-1', attempt: 1, by: 'executor' }]);
      expect(await queue.readyIds()).toEqual(['m-1']);
      expect(await completedMessages()).toEqual([]);
    });

    it('given an LLM that fails on the last attempt, when it is executed, then the mission is dead-lettered in the same append and the agent released', async () => {
      const { partition, store, queue, executor, assign, released } = setup(new ControlledLlm({ kind: 'fail' }), { MAX_ATTEMPTS: '1' });
      const assigned = await assign('m-1');

      await executor.execute(assigned);

      expect(store.appends).toEqual([['MissionStarted'], ['MissionFailed', 'MissionDeadLettered']]);
      expect(await store.load('m-1')).toMatchObject({ status: 'dead_lettered', lastError: 'provider returned 502' });
      expect(await redis.zscore(partition.deadLetters, 'm-1')).not.toBeNull();
      expect(await queue.readyIds()).toEqual([]);
      expect(await released()).toEqual([{ agentId: 'agent-pia', missionId: 'm-1', attempt: 1, by: 'executor' }]);
    });
  });

  describe('a cancelled attempt', () => {
    it('given an LLM call in progress, when the mission is cancelled and the cancel check aborts the call, then the attempt counts as a stale result and nothing follows the cancel', async () => {
      const llm = new ControlledLlm({ kind: 'hold' });
      const { store, pipeline, metrics, executor, assign, released } = setup(llm, { MAX_ATTEMPTS: '3' });
      const execution = executor.execute(await assign('m-1'));
      await waitFor(async () => llm.calls.length === 1, { timeoutMs: 5_000, what: 'the LLM call to start' });
      await pipeline.transition('m-1', (m) => decideCancel(m, 'the guest checked out'), { actor: 'operator' });

      executor.onApplicationBootstrap();
      await execution;
      await executor.onModuleDestroy();

      expect(llm.calls[0].request.signal?.aborted).toBe(true);
      // Its skipped failure went uncounted before: a cancelled attempt was stale only when its reply beat the cancel check.
      expect((await metrics.staleResults.get()).values[0]?.value).toBe(1);
      expect(store.appends).toEqual([['MissionStarted'], ['MissionCancelled']]);
      expect(await store.load('m-1')).toMatchObject({ status: 'cancelled', attempts: 1 });
      // The cancel released the agent; the executor released nothing more.
      expect(await released()).toEqual([{ agentId: 'agent-pia', missionId: 'm-1', attempt: 1, by: 'intake' }]);
    });
  });

  describe('retries', () => {
    it('given RETRY_BASE_MS, when an attempt fails with attempts left, then the next one is scheduled after its backoff, the agent released, the ready queue left alone', async () => {
      const { partition, store, queue, executor, assign, released } = setup(new ControlledLlm({ kind: 'fail' }), {
        MAX_ATTEMPTS: '3',
        RETRY_BASE_MS: '1000',
        RETRY_MAX_MS: '60000',
      });
      const assigned = await assign('m-1');
      const before = Date.now();

      await executor.execute(assigned);

      expect(store.appends).toEqual([['MissionStarted'], ['MissionFailed', 'MissionScheduled']]);
      const scheduled = await store.load('m-1');
      expect(scheduled).toMatchObject({ status: 'scheduled', attempts: 1, lastError: 'provider returned 502' });
      // The first backoff is 500..1000 ms after the failure: half of RETRY_BASE_MS plus up to as much jitter.
      const wait = Date.parse(scheduled?.notBefore ?? '') - before;
      expect(wait).toBeGreaterThanOrEqual(400);
      expect(wait).toBeLessThanOrEqual(1_000 + (Date.now() - before));
      expect(Number(await redis.zscore(partition.scheduled('retry'), 'm-1'))).toBe(Date.parse(scheduled?.notBefore ?? ''));
      expect(await queue.readyIds()).toEqual([]);
      expect(await released()).toEqual([{ agentId: 'agent-pia', missionId: 'm-1', attempt: 1, by: 'executor' }]);
    });

    it('given a provider that asked to wait (Retry-After), when an attempt fails, then the next one waits at least that long, however small RETRY_BASE_MS', async () => {
      const { store, executor, assign } = setup(new ControlledLlm({ kind: 'rate-limit', retryAfterMs: 300_000 }), { MAX_ATTEMPTS: '3', RETRY_BASE_MS: '0' });
      const assigned = await assign('m-1');
      const before = Date.now();

      await executor.execute(assigned);

      // The next attempt used to come at once: three attempts in a second, and the mission dead-lettered
      // long before the provider allowed another call.
      expect(store.appends).toEqual([['MissionStarted'], ['MissionFailed', 'MissionScheduled']]);
      const wait = Date.parse((await store.load('m-1'))?.notBefore ?? '') - before;
      expect(wait).toBeGreaterThanOrEqual(300_000);
      expect(wait).toBeLessThanOrEqual(300_000 + (Date.now() - before));
    });

    it('given a provider that rejects the request (a 4xx), when an attempt fails, then the mission is dead-lettered at once as a permanent failure', async () => {
      const { partition, store, executor, assign } = setup(new ControlledLlm({ kind: 'reject' }), { MAX_ATTEMPTS: '3', RETRY_BASE_MS: '1000' });

      await executor.execute(await assign('m-1'));

      expect(store.appends).toEqual([['MissionStarted'], ['MissionFailed', 'MissionDeadLettered']]);
      const [deadLettered] = (await store.history('m-1')).slice(-1);
      expect(deadLettered).toMatchObject({
        type: 'MissionDeadLettered',
        data: { reason: expect.stringMatching(/^permanent failure: provider rejected/), attempts: 1 },
      });
      expect(await redis.zscore(partition.deadLetters, 'm-1')).not.toBeNull();
    });
  });

  describe('shutdown', () => {
    it('given an LLM call that ends within SHUTDOWN_GRACE_MS, when the executor shuts down, then shutdown waits for it and its result is recorded', async () => {
      const llm = new ControlledLlm({ kind: 'answer-after', ms: 150 });
      const { store, executor, assign, completedMessages } = setup(llm, { SHUTDOWN_GRACE_MS: '5000' });
      const execution = executor.execute(await assign('m-1'));
      await waitFor(async () => llm.calls.length === 1, { timeoutMs: 5_000, what: 'the LLM call to start' });

      const began = Date.now();
      await executor.onModuleDestroy();

      // Shutdown returned once the attempt was recorded, long before the grace was over.
      expect(Date.now() - began).toBeLessThan(2_500);
      expect(llm.calls[0].request.signal?.aborted).toBe(false);
      expect(store.appends).toEqual([['MissionStarted'], ['MissionCompleted']]);
      expect(await completedMessages()).toHaveLength(1);
      await execution;
    });

    it('given an LLM call still running when SHUTDOWN_GRACE_MS is over, when the executor shuts down, then the call is aborted and recorded as a failed attempt, queued again', async () => {
      const llm = new ControlledLlm({ kind: 'hold' });
      const { store, queue, executor, assign, released } = setup(llm, { SHUTDOWN_GRACE_MS: '200', MAX_ATTEMPTS: '3' });
      const execution = executor.execute(await assign('m-1'));
      await waitFor(async () => llm.calls.length === 1, { timeoutMs: 5_000, what: 'the LLM call to start' });

      const began = Date.now();
      await executor.onModuleDestroy();
      // Timers may fire a millisecond early.
      expect(Date.now() - began).toBeGreaterThanOrEqual(190);
      expect(llm.calls[0].request.signal?.aborted).toBe(true);
      await execution;

      expect(store.appends).toEqual([['MissionStarted'], ['MissionFailed', 'MissionQueued']]);
      expect(await store.load('m-1')).toMatchObject({ status: 'queued', lastError: 'executor shut down during the attempt' });
      expect(await queue.readyIds()).toEqual(['m-1']);
      expect(await released()).toEqual([{ agentId: 'agent-pia', missionId: 'm-1', attempt: 1, by: 'executor' }]);
    });

    it('given shutdown has begun, when another assigned mission arrives, then execute throws (so its message stays pending) and the mission is untouched', async () => {
      const llm = new ControlledLlm({ kind: 'hold' });
      const { store, executor, assign } = setup(llm, { SHUTDOWN_GRACE_MS: '200' });
      const first = executor.execute(await assign('m-1'));
      const second = await assign('m-2');
      await waitFor(async () => llm.calls.length === 1, { timeoutMs: 5_000, what: 'the first LLM call to start' });
      const shutdown = executor.onModuleDestroy();
      // It refuses work once its consumer has stopped reading (here, with no server, at once): one turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));

      await expect(executor.execute(second)).rejects.toThrow('executor is shutting down; handing the mission back');

      await shutdown;
      await first;
      expect(await store.load('m-2')).toEqual(second);
      expect(llm.calls).toHaveLength(1);
    });
  });

  describe('a start whose reply was lost', () => {
    it('given the start append took effect but its reply was lost, when the resent append meets that start, then the attempt runs and completes exactly once', async () => {
      const llm = new ControlledLlm({ kind: 'answer' });
      const { store, executor, assign, typesOf, completedMessages } = setup(llm);
      const assigned = await assign('m-1');
      store.loseReplyTo = 'MissionStarted';

      await executor.execute(assigned);

      expect(store.loseReplyTo).toBeNull();
      expect(store.appends).toEqual([['MissionStarted'], ['MissionCompleted']]);
      expect(await typesOf('m-1')).toEqual(['MissionCreated', 'MissionQueued', 'MissionAssigned', 'MissionStarted', 'MissionCompleted']);
      expect(llm.calls).toHaveLength(1);
      expect(await completedMessages()).toHaveLength(1);
    });

    it('given the start append took effect, its reply was lost and the deadline passed before it was sent again, then the attempt still runs and completes', async () => {
      const llm = new ControlledLlm({ kind: 'answer' });
      const { store, pipeline, executor, assign, typesOf, released } = setup(llm);
      const assigned = await assign('m-1', { ...inspection, deadline: '2026-01-01T00:00:00Z' });
      store.loseReplyTo = 'MissionStarted';
      // The deadline watch records the mission overdue between the lost reply and the resend.
      store.beforeResend = () => pipeline.transition('m-1', (m) => decideOverdue(m, new Date()), { actor: 'intake:deadline-watch' });

      await executor.execute(assigned);

      // The start was no longer the last event, so it was taken for another run's: the message was
      // acked with nothing done, and the mission stayed running, its agent held, for good.
      expect(await typesOf('m-1')).toEqual(['MissionCreated', 'MissionQueued', 'MissionAssigned', 'MissionStarted', 'MissionOverdue', 'MissionCompleted']);
      expect(llm.calls).toHaveLength(1);
      expect(await released()).toEqual([]);
    });

    it('given the completion append took effect but its reply was lost, when ioredis resends it, then the completion is recorded once and no stale result is counted', async () => {
      const llm = new ControlledLlm({ kind: 'answer' });
      const { store, metrics, executor, assign, typesOf, completedMessages } = setup(llm);
      const assigned = await assign('m-1');
      store.loseReplyTo = 'MissionCompleted';

      await executor.execute(assigned);

      expect(store.loseReplyTo).toBeNull();
      expect(await typesOf('m-1')).toEqual(['MissionCreated', 'MissionQueued', 'MissionAssigned', 'MissionStarted', 'MissionCompleted']);
      expect(await completedMessages()).toHaveLength(1);
      expect((await metrics.staleResults.get()).values[0]?.value ?? 0).toBe(0);
    });

    /** The mission as another executor left it: running attempt 1, started by a run that is not this one. */
    async function startedElsewhere(id: string, context: ReturnType<typeof setup>): Promise<{ assigned: Mission; running: Mission }> {
      const assigned = await context.assign(id);
      const started = await context.pipeline.transition(assigned, (m) => decideStart(m, 1, 'run-of-another-executor'), { actor: 'executor' });
      if (started.kind !== 'appended') throw new Error(`start ${id} failed`);
      context.store.appends.length = 0;
      return { assigned, running: started.mission };
    }

    it('given the attempt was started by another run, when the message comes a first time, then nothing happens (that run owns the attempt)', async () => {
      const llm = new ControlledLlm({ kind: 'answer' });
      const context = setup(llm);
      const { assigned, running } = await startedElsewhere('m-1', context);

      await context.executor.execute(assigned, false);

      expect(context.store.appends).toEqual([]);
      expect(await context.store.load('m-1')).toEqual(running);
      expect(llm.calls).toHaveLength(0);
      expect(await context.released()).toEqual([]);
    });

    it('given the attempt was started by another run, when the message is redelivered (that executor died), then the attempt is recorded as failed and queued again', async () => {
      const llm = new ControlledLlm({ kind: 'answer' });
      const context = setup(llm, { MAX_ATTEMPTS: '3' });
      const { assigned } = await startedElsewhere('m-1', context);

      await context.executor.execute(assigned, true);

      expect(context.store.appends).toEqual([['MissionFailed', 'MissionQueued']]);
      expect(await context.store.load('m-1')).toMatchObject({ status: 'queued', lastError: 'executor lost during the attempt' });
      expect(llm.calls).toHaveLength(0);
      expect(await context.released()).toEqual([{ agentId: 'agent-pia', missionId: 'm-1', attempt: 1, by: 'executor' }]);
      expect(await context.queue.readyIds()).toEqual(['m-1']);
    });
  });
  describe('an outcome Redis refuses for a while', () => {
    it('given Redis out of memory refusing the completion append twice, when memory frees, then the reply is recorded as the completion of the same attempt, no attempt used up', async () => {
      const llm = new ControlledLlm({ kind: 'answer' });
      const { store, executor, assign, completedMessages, released } = setup(llm, { MAX_ATTEMPTS: '3' });
      const assigned = await assign('m-1');
      store.refuse = { type: 'MissionCompleted', times: 2 };

      await executor.execute(assigned);

      expect(store.refuse.times).toBeLessThan(0);
      expect(store.appends).toEqual([['MissionStarted'], ['MissionCompleted']]);
      expect(await store.load('m-1')).toMatchObject({ status: 'evaluating', attempts: 1, lastError: null, result: { output: ANSWER } });
      expect(await completedMessages()).toHaveLength(1);
      expect(await released()).toEqual([]);
      expect(llm.calls).toHaveLength(1);
    });

    it('given Redis out of memory refusing the failure append, when memory frees, then the failure is recorded once, with the LLM error, not as a lost executor', async () => {
      const { store, executor, assign } = setup(new ControlledLlm({ kind: 'fail' }), { MAX_ATTEMPTS: '3' });
      const assigned = await assign('m-1');
      store.refuse = { type: 'MissionFailed', times: 1 };

      await executor.execute(assigned);

      expect(store.appends).toEqual([['MissionStarted'], ['MissionFailed', 'MissionQueued']]);
      expect(await store.load('m-1')).toMatchObject({ status: 'queued', attempts: 1, lastError: 'provider returned 502' });
    });

    it('given the completion append took effect but the connection dropped before its reply, when it is retried, then the reply counts as recorded once, not as a stale result', async () => {
      const llm = new ControlledLlm({ kind: 'answer' });
      const { store, metrics, executor, assign, completedMessages } = setup(llm, { MAX_ATTEMPTS: '3' });
      const assigned = await assign('m-1');
      store.dropConnectionAfter = 'MissionCompleted';

      await executor.execute(assigned);

      expect(store.dropConnectionAfter).toBeNull();
      expect(store.appends).toEqual([['MissionStarted'], ['MissionCompleted']]);
      expect(await store.load('m-1')).toMatchObject({ status: 'evaluating', attempts: 1, result: { output: ANSWER } });
      expect(await completedMessages()).toHaveLength(1);
      // Before, the retry that met this run's own completion counted and logged it as a stale result.
      expect((await metrics.staleResults.get()).values[0]?.value ?? 0).toBe(0);
    });

    it('given the failure append took effect but the connection dropped before its reply, when it is retried, then the failure counts as recorded once, not as a stale result', async () => {
      const { store, metrics, executor, assign } = setup(new ControlledLlm({ kind: 'fail' }), { MAX_ATTEMPTS: '3' });
      const assigned = await assign('m-1');
      store.dropConnectionAfter = 'MissionFailed';

      await executor.execute(assigned);

      expect(store.appends).toEqual([['MissionStarted'], ['MissionFailed', 'MissionQueued']]);
      expect(await store.load('m-1')).toMatchObject({ status: 'queued', attempts: 1, lastError: 'provider returned 502' });
      expect((await metrics.staleResults.get()).values[0]?.value ?? 0).toBe(0);
    });

    it("given another run recorded the attempt's failure while the call ran (it took the message over), when the reply comes, then it is still a stale result, its billed reply recorded late", async () => {
      const llm = new ControlledLlm({ kind: 'hold' });
      const { store, pipeline, metrics, executor, assign } = setup(llm, { MAX_ATTEMPTS: '3' });
      const execution = executor.execute(await assign('m-1'));
      await waitFor(async () => llm.calls.length === 1, { timeoutMs: 5_000, what: 'the LLM call to start' });
      await pipeline.transition('m-1', (m) => decideFailure(m, 1, 'executor lost during the attempt', 3, { runId: 'run-of-another-executor' }), {
        actor: 'executor',
      });

      llm.calls[0].answer();
      await execution;

      expect(store.appends).toEqual([['MissionStarted'], ['MissionFailed', 'MissionQueued'], ['LateReplyBilled']]);
      expect(await store.load('m-1')).toMatchObject({ status: 'queued', attempts: 1, lastError: 'executor lost during the attempt' });
      expect((await metrics.staleResults.get()).values[0]?.value).toBe(1);
    });

    it('given Redis refusing the completion append until the shutdown grace is over, when the executor shuts down, then it stops retrying and the error goes back to the transport', async () => {
      const llm = new ControlledLlm({ kind: 'answer' });
      const { store, executor, assign } = setup(llm, { SHUTDOWN_GRACE_MS: '200' });
      const assigned = await assign('m-1');
      store.refuse = { type: 'MissionCompleted', times: Number.MAX_SAFE_INTEGER };
      const execution = executor.execute(assigned);
      await waitFor(async () => store.refuse!.times < Number.MAX_SAFE_INTEGER, { timeoutMs: 5_000, what: 'the first refusal' });

      await executor.onModuleDestroy();

      await expect(execution).rejects.toThrow('OOM command not allowed');
      expect(store.appends).toEqual([['MissionStarted']]);
    });
  });

  describe('a message it cannot handle', () => {
    const delivery = (deliveries: number) => new RedisStreamsContext(['stream', '1-0', deliveries, 0, 5]);

    it('given appends that keep failing, when the message fails before its last delivery, then the error goes back to the transport and the mission is untouched', async () => {
      const context = setup(new ControlledLlm({ kind: 'answer' }), { MAX_ATTEMPTS: '3' });
      const assigned = await context.assign('m-1');
      context.store.failAppendsOf = 'MissionStarted';

      await expect(new ExecutionConsumer(context.executor).missionAssigned({ mission: assigned }, delivery(4))).rejects.toThrow('a broken script');

      expect(await context.store.load('m-1')).toEqual(assigned);
      expect(await context.released()).toEqual([]);
    });

    it('given appends that keep failing, when the message fails on its last delivery, then its attempt fails with why, the agent is released and the mission queued again', async () => {
      const context = setup(new ControlledLlm({ kind: 'answer' }), { MAX_ATTEMPTS: '3' });
      const assigned = await context.assign('m-1');
      context.store.failAppendsOf = 'MissionStarted';

      await new ExecutionConsumer(context.executor).missionAssigned({ mission: assigned }, delivery(5));

      expect(context.store.appends).toEqual([['MissionFailed', 'MissionQueued']]);
      expect(await context.store.load('m-1')).toMatchObject({
        status: 'queued',
        attempts: 1,
        lastError: 'the executor gave up after 5 deliveries: Error: ERR user_script:1: a broken script',
      });
      expect(await context.released()).toEqual([{ agentId: 'agent-pia', missionId: 'm-1', attempt: 1, by: 'executor' }]);
      expect(await context.queue.readyIds()).toEqual(['m-1']);
    });

    it('given an attempt that completed, when its message is abandoned late, then nothing changes', async () => {
      const context = setup(new ControlledLlm({ kind: 'answer' }), { MAX_ATTEMPTS: '3' });
      const assigned = await context.assign('m-1');
      await context.executor.execute(assigned);
      const completed = await context.store.load('m-1');
      context.store.appends.length = 0;

      await context.executor.abandon(assigned, 'the executor gave up after 5 deliveries');

      expect(context.store.appends).toEqual([]);
      expect(await context.store.load('m-1')).toEqual(completed);
    });
  });
});
