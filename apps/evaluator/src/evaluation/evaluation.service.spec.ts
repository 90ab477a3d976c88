import { PinoLogger } from 'nestjs-pino';
import { loadEnvironment, readReviewPolicy } from '@app/config';
import { LlmJudge, RUBRICS, RuleBasedJudge } from '@app/evaluation';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { buildLlmRequest, LlmClient, LlmError, LlmErrorCode, MockLlmClient } from '@app/llm';
import {
  decideAssign,
  decideCancel,
  decideComplete,
  decideCreate,
  decideStart,
  Evaluation,
  Mission,
  MissionCreateDto,
  NO_REVIEW_POLICY,
  ReviewPolicy,
} from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { decodeMessage, HandBackError, RedisStreamsContext } from '@app/redis-streams';
import { MetricsRegistry } from '@app/runtime';
import { deleteKeysByPrefix, HeldLlmClient, TEST_QUEUE_ORDER, testKeyPrefix, testPersonalData, testRedis, waitFor } from '@app/testing';
import { EvaluationMetrics } from './evaluation-metrics';
import { EvaluationConsumer } from './evaluation.consumer';
import { EvaluationService } from './evaluation.service';

/** The mock model's draft for this request passes the rules (see the RuleBasedJudge spec). */
const lateCheckout: MissionCreateDto = {
  type: 'guest_support',
  title: 'Späterer Check-out',
  description: 'Gast bittet um späten Check-out.',
  priority: 'normal',
  payload: {
    guest: { name: 'Anna Schmidt', vip: true },
    requestedTime: '14:00',
    roomNumber: 701,
    message: 'Hallo, ich möchte bitte später auschecken, gegen 14 Uhr. Danke!',
  },
};
/** From fixtures/odoo_missions_mock.json: a floor above the ceiling, so no rate can pass. */
const conflictingRates: MissionCreateDto = {
  type: 'pricing',
  title: 'Conflicting rate floors from two channel managers',
  description: 'The Booking.com channel manager sets a floor above the ceiling that the Expedia channel manager enforces for the same room.',
  priority: 'high',
  payload: { roomType: 'Standard Double', stayDate: '2026-12-05', currency: 'EUR', currentRate: 159, minRate: 189, maxRate: 169, occupancy: 0.7 },
};
const LEASE_MS = 30_000;

/** A judge with a bug: it throws on every mission, as a broken rubric would. */
class BrokenJudge extends RuleBasedJudge {
  override judge(): never {
    throw new TypeError("Cannot read properties of undefined (reading 'length')");
  }
}

describe('EvaluationService (real Redis, no services, rule-based judge)', () => {
  const redis = testRedis();
  const prefixes: string[] = [];
  const draftingModel = new MockLlmClient({ latencyMs: 0, failureRate: 0, malformedRate: 0 });
  /** Every first draft misses a rubric point: a failing verdict another attempt can fix. */
  const flawedModel = new MockLlmClient({ latencyMs: 0, failureRate: 0, malformedRate: 0, flawRate: 1 });

  function setup(
    env: Record<string, string> = {},
    reviewPolicy: ReviewPolicy = NO_REVIEW_POLICY,
    judge = new RuleBasedJudge(),
    llmJudge: LlmJudge | null = null,
  ) {
    const prefix = testKeyPrefix('evaluator');
    prefixes.push(prefix);
    const keys = new KeyLayout(prefix);
    const store = new MissionStore(redis, keys);
    const queue = new ReadyQueue(redis, keys, TEST_QUEUE_ORDER);
    const pipeline = new MissionPipeline(store, queue);
    const metrics = new EvaluationMetrics(new MetricsRegistry('evaluator'));
    const evaluator = new EvaluationService(
      pipeline,
      store,
      loadEnvironment({ KEY_PREFIX: prefix, RETRY_BASE_MS: '0', ...env }),
      judge,
      llmJudge,
      new PinoLogger({ pinoHttp: { level: 'silent' } }),
      metrics,
      reviewPolicy,
      testPersonalData(redis, prefix),
    );
    const partition = keys.partitions[0];

    /** A mission as the executor hands it over: its first attempt completed with the mock model's draft. */
    const complete = async (id: string, input: MissionCreateDto, model = draftingModel): Promise<Mission> => {
      const created = await pipeline.append(id, null, decideCreate(input), { actor: 'test' });
      if (created.code !== AppendCode.Ok) throw new Error(`create ${id} failed`);
      const [{ mission: leased }] = await queue.lease(0, 1, LEASE_MS, `lease-${id}`);
      const assigned = await pipeline.transition(leased, (m) => decideAssign(m, 'agent-pia'), { actor: 'test', leaseId: `lease-${id}` });
      if (assigned.kind !== 'appended') throw new Error(`assign ${id} failed`);
      const started = await pipeline.transition(assigned.mission, (m) => decideStart(m, 1, `run-${id}`), { actor: 'test' });
      if (started.kind !== 'appended') throw new Error(`start ${id} failed`);
      const response = await model.complete(buildLlmRequest(started.mission, { systemPrompt: 'Hotel Seeblick agent.', timeoutMs: 1_000 }));
      const result = { output: response.output, model: response.model, latencyMs: response.latencyMs, usage: response.usage };
      const completed = await pipeline.transition(started.mission, (m) => decideComplete(m, 1, result), { actor: 'test' });
      if (completed.kind !== 'appended') throw new Error(`complete ${id} failed`);
      return completed.mission;
    };
    /** The events appended since the mission completed. */
    const eventsAfter = async (completed: Mission) => (await store.history(completed.id)).filter((event) => event.version > completed.version);
    const released = async () =>
      (await redis.xrange(partition.stream('orchestrator'), '-', '+'))
        .map(([id, fields]) => decodeMessage(id, fields))
        .filter((message) => message.pattern === 'agent.released')
        .map((message) => message.data);
    const verdictsCounted = async () => (await metrics.verdicts.get()).values.reduce((sum, value) => sum + value.value, 0);
    /** Each `verdict` label counted, and how many scores were observed. */
    const verdictMetrics = async () => ({
      verdicts: Object.fromEntries((await metrics.verdicts.get()).values.map(({ labels, value }) => [String(labels.verdict), value])),
      scores: (await metrics.scores.get()).values.find((value) => value.metricName === 'brain_evaluation_score_count')?.value ?? 0,
    });
    return { partition, store, queue, evaluator, complete, eventsAfter, released, verdictsCounted, verdictMetrics };
  }

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a completed attempt that meets the rubric, when it is evaluated, then the mission succeeds and the agent is released with credit score × 10', async () => {
    const { store, queue, evaluator, complete, eventsAfter, released, verdictsCounted } = setup();
    const completed = await complete('m-1', lateCheckout);

    await evaluator.evaluate(completed);

    const [evaluated, ...rest] = await eventsAfter(completed);
    expect(rest).toEqual([]);
    expect(evaluated).toMatchObject({
      type: 'MissionEvaluated',
      actor: 'evaluator',
      data: { attempt: 1, passed: true, judge: 'rules', rubricVersion: RUBRICS.guest_support.version },
    });
    const { score } = evaluated.data as Evaluation;
    expect(score).toBeGreaterThanOrEqual(RUBRICS.guest_support.passThreshold);
    expect(await store.load('m-1')).toMatchObject({ status: 'succeeded', attempts: 1, feedback: null });
    expect(await released()).toEqual([
      { agentId: 'agent-pia', missionId: 'm-1', attempt: 1, credit: { delta: score * 10, score, passed: true }, by: 'evaluator' },
    ]);
    expect(await queue.readyIds()).toEqual([]);
    expect(await verdictsCounted()).toBe(1);
  });

  it("given the LLM judge, when it judges an attempt, then its verdict records the judge call's tokens", async () => {
    const { evaluator, complete, eventsAfter } = setup(
      {},
      NO_REVIEW_POLICY,
      new RuleBasedJudge(),
      new LlmJudge(new MockLlmClient({ latencyMs: 0, failureRate: 0, malformedRate: 0 }), 1_000),
    );
    const completed = await complete('m-judged', lateCheckout);

    await evaluator.evaluate(completed);

    const [evaluated, ...rest] = await eventsAfter(completed);
    expect(evaluated).toMatchObject({
      type: 'MissionEvaluated',
      data: { judge: 'llm:mock-hotel-1', usage: { promptTokens: expect.any(Number) }, runId: expect.any(String) },
    });
    expect(evaluated.type === 'MissionEvaluated' && evaluated.data.usage?.promptTokens).toBeGreaterThan(0);
    // The verdict carries the call: no LateReplyBilled besides, so the daily report counts it once.
    expect(rest.map((event) => event.type)).not.toContain('LateReplyBilled');
  });

  // The call went on until the judge's timeout and its retries (43 s, and up to about 540 s with the defaults) while the stop waited for it.
  it('given the LLM judge waiting for its model, when shutdown begins, then the call ends and the message is handed back, nothing recorded', async () => {
    const mock = new MockLlmClient({ latencyMs: 0, failureRate: 0, malformedRate: 0 });
    const model = new HeldLlmClient((request) => mock.complete(request), 'mock');
    const { evaluator, complete, eventsAfter } = setup({}, NO_REVIEW_POLICY, new RuleBasedJudge(), new LlmJudge(model, 600_000));
    const completed = await complete('m-judge-stopped', lateCheckout);

    const judging = evaluator.evaluate(completed).then(
      () => 'judged',
      (error: unknown) => error,
    );
    await waitFor(async () => model.calls === 1, { timeoutMs: 5_000, what: 'the judge to be asked' });
    evaluator.onModuleDestroy();
    const ended = await Promise.race([judging, new Promise((resolve) => setTimeout(() => resolve('still judging after 5 s'), 5_000).unref())]);

    expect(ended).toBeInstanceOf(HandBackError);
    // Not judged by the rules instead: the next evaluator asks the model again.
    expect(await eventsAfter(completed)).toEqual([]);
  });

  it("given a stop that comes as the LLM judge's billed reply is refused, then the call is recorded with the rules' verdict, not handed back to be paid again", async () => {
    const billed = { usage: { promptTokens: 120, completionTokens: 30 }, model: 'mock', costUsd: 0.0004 };
    let stop = () => undefined as void;
    // The provider answered (billed) and the reply did not fit as the stop came: the error is the reply's, not an abort's.
    const model: LlmClient = {
      provider: 'mock',
      complete: async () => {
        stop();
        throw new LlmError(LlmErrorCode.MalformedOutput, 'verdict does not match the judge schema: reason must be a string', true, undefined, billed);
      },
    };
    const { evaluator, complete, eventsAfter } = setup({}, NO_REVIEW_POLICY, new RuleBasedJudge(), new LlmJudge(model, 1_000));
    stop = () => evaluator.onModuleDestroy();
    const completed = await complete('m-judge-billed-stopped', lateCheckout);

    await evaluator.evaluate(completed);

    const [evaluated] = await eventsAfter(completed);
    expect(evaluated).toMatchObject({ type: 'MissionEvaluated', data: { judge: 'rules (LLM judge failed)', usage: billed.usage, costUsd: 0.0004 } });
  });

  it("given the LLM judge is thinking when the mission is cancelled, when its billed reply comes, then LateReplyBilled records the judge's call, once also when the message is redelivered", async () => {
    // The mock model as the judge, at a price; its reply waits until the test releases it.
    const mock = new MockLlmClient({ latencyMs: 0, failureRate: 0, malformedRate: 0 });
    const model = new HeldLlmClient(async (request) => ({ ...(await mock.complete(request)), costUsd: 0.0009 }), 'mock');
    const { store, evaluator, complete, eventsAfter, released, verdictsCounted } = setup(
      {},
      NO_REVIEW_POLICY,
      new RuleBasedJudge(),
      new LlmJudge(model, 1_000),
    );
    const completed = await complete('m-cancelled-judged', lateCheckout);

    const judging = evaluator.evaluate(completed);
    await waitFor(async () => model.calls === 1, { timeoutMs: 5_000, what: 'the judge to be asked' });
    expect((await store.transition(completed.id, (m) => decideCancel(m, 'guest checked out'), { actor: 'test' })).kind).toBe('appended');
    model.release();
    await judging;

    const [cancelled, billed, ...rest] = await eventsAfter(completed);
    expect(rest).toEqual([]);
    expect(cancelled.type).toBe('MissionCancelled');
    expect(billed).toMatchObject({
      type: 'LateReplyBilled',
      actor: 'evaluator',
      data: { attempt: 1, agentId: 'agent-pia', usage: { promptTokens: expect.any(Number) }, costUsd: 0.0009, runId: expect.any(String), judge: true },
    });
    expect(billed.type === 'LateReplyBilled' && billed.data.usage.promptTokens).toBeGreaterThan(0);
    expect(await store.load(completed.id)).toMatchObject({ status: 'cancelled', lateBilledRuns: [billed.type === 'LateReplyBilled' && billed.data.runId] });
    // The moot verdict credits no one and counts as no verdict.
    expect(await released()).toEqual([]);
    expect(await verdictsCounted()).toBe(0);

    // Its evaluator died before the ack: the redelivery neither asks the judge again nor records the call twice.
    await evaluator.evaluate(completed, { redelivered: true });
    expect(model.calls).toBe(1);
    expect(await eventsAfter(completed)).toEqual([cancelled, billed]);
  });

  it('given the LLM judge, when the mission was cancelled before its completed attempt is evaluated, then the judge is not asked and nothing is recorded', async () => {
    let judgeCalls = 0;
    const judgeModel: LlmClient = {
      provider: 'openai',
      complete: () => {
        judgeCalls += 1;
        return Promise.reject(new LlmError(LlmErrorCode.ProviderError, 'the judge must not be asked about a cancelled mission', true));
      },
    };
    const { store, evaluator, complete, eventsAfter, verdictsCounted } = setup({}, NO_REVIEW_POLICY, new RuleBasedJudge(), new LlmJudge(judgeModel, 1_000));
    const completed = await complete('m-cancelled-before-judging', lateCheckout);
    expect((await store.transition(completed.id, (m) => decideCancel(m, 'guest checked out'), { actor: 'test' })).kind).toBe('appended');

    await evaluator.evaluate(completed);

    expect(judgeCalls).toBe(0);
    expect((await eventsAfter(completed)).map((event) => event.type)).toEqual(['MissionCancelled']);
    expect(await verdictsCounted()).toBe(0);
  });

  it('given an LLM judge whose billed reply cannot be used, when the rules judge instead, then the verdict still records what the provider billed', async () => {
    const billed = { usage: { promptTokens: 900, completionTokens: 512 }, model: 'judge-model', costUsd: 0.0006 };
    const cutOff: LlmClient = {
      provider: 'openai',
      complete: () => Promise.reject(new LlmError(LlmErrorCode.MalformedOutput, 'the reply hit the token limit', true, undefined, billed)),
    };
    const { evaluator, complete, eventsAfter } = setup({}, NO_REVIEW_POLICY, new RuleBasedJudge(), new LlmJudge(cutOff, 1_000));
    const completed = await complete('m-cut-off', lateCheckout);

    await evaluator.evaluate(completed);

    const [evaluated] = await eventsAfter(completed);
    expect(evaluated).toMatchObject({
      type: 'MissionEvaluated',
      data: { judge: 'rules (LLM judge failed)', usage: { promptTokens: 900, completionTokens: 512 }, costUsd: 0.0006 },
    });
  });

  it('given the hotel review policy and a guest reply that meets the rubric, when it is evaluated, then it awaits a reviewer in the inbox and the agent is released with its credit', async () => {
    const { partition, store, queue, evaluator, complete, eventsAfter, released } = setup({}, readReviewPolicy('fixtures/review-policy.yaml'));
    const completed = await complete('m-1', lateCheckout);

    await evaluator.evaluate(completed);

    const [evaluated, requested, ...rest] = await eventsAfter(completed);
    expect(rest).toEqual([]);
    expect(evaluated).toMatchObject({ type: 'MissionEvaluated', data: { attempt: 1, passed: true, heldForReview: true } });
    expect(requested).toMatchObject({ type: 'MissionReviewRequested', actor: 'evaluator', data: { rule: 'guest-replies', attempt: 1 } });
    expect(await store.load('m-1')).toMatchObject({ status: 'awaiting_review', review: { rule: 'guest-replies', requestedAt: requested.at } });
    const { score } = evaluated.data as Evaluation;
    expect(await released()).toEqual([
      { agentId: 'agent-pia', missionId: 'm-1', attempt: 1, credit: { delta: score * 10, score, passed: true }, by: 'evaluator' },
    ]);
    expect(await redis.zrange(partition.awaitingReview, 0, -1)).toEqual(['m-1']);
    expect(await queue.readyIds()).toEqual([]);
  });

  it('given a completed attempt that fails the rubric with attempts left, when it is evaluated, then the verdict and the next attempt are one append, with the reason as feedback', async () => {
    const { store, queue, evaluator, complete, eventsAfter, released } = setup({ MAX_ATTEMPTS: '3' });
    const completed = await complete('m-1', lateCheckout, flawedModel);

    await evaluator.evaluate(completed);

    const [evaluated, queued, ...rest] = await eventsAfter(completed);
    expect(rest).toEqual([]);
    const { score, reason } = evaluated.data as Evaluation;
    expect(evaluated).toMatchObject({ type: 'MissionEvaluated', data: { attempt: 1, passed: false } });
    expect(reason).toMatch(/^Failed with score/);
    // One step: consecutive versions written at the same moment.
    expect(queued).toMatchObject({ type: 'MissionQueued', version: evaluated.version + 1, at: evaluated.at, data: { reason: 'retry', feedback: reason } });
    expect(await store.load('m-1')).toMatchObject({ status: 'queued', attempts: 1, feedback: reason });
    expect(await released()).toEqual([{ agentId: 'agent-pia', missionId: 'm-1', attempt: 1, credit: { delta: -5, score, passed: false }, by: 'evaluator' }]);
    expect(await queue.readyIds()).toEqual(['m-1']);
  });

  it('given a completed attempt whose guest data fails authentication, when it is evaluated, then the attempt fails and the next one is queued, instead of the message failing forever', async () => {
    const { store, queue, evaluator, complete, eventsAfter, released, verdictMetrics } = setup({ MAX_ATTEMPTS: '3' });
    const completed = await complete('m-1', lateCheckout);
    // A field sealed for another mission: it does not open here (the AAD binds the mission id).
    const [moved] = await testPersonalData(redis, prefixes[prefixes.length - 1]).cipher.seal(
      'm-other',
      ['guest:anna'],
      [{ path: 'payload.guest.name', value: 'Anna Schmidt' }],
    );
    const tampered: Mission = { ...completed, subjects: ['guest:anna'], payload: { ...completed.payload, guest: { name: moved, vip: true } } };

    // It used to throw GuestDataError at every delivery, until the message went to the poison stream.
    await evaluator.evaluate(tampered);

    const [evaluated, queued, ...rest] = await eventsAfter(completed);
    expect(rest).toEqual([]);
    expect(evaluated).toMatchObject({
      type: 'MissionEvaluated',
      data: { attempt: 1, passed: false, judge: 'none', reason: expect.stringMatching(/^not judged: .*fails authentication/) },
    });
    expect(queued).toMatchObject({ type: 'MissionQueued', data: { reason: 'retry' } });
    expect(await store.load('m-1')).toMatchObject({ status: 'queued', attempts: 1 });
    expect(await queue.readyIds()).toEqual(['m-1']);
    // No judge saw the output: the slot is freed, but the agent is neither credited nor docked (it was −5 and a score of 0).
    expect(await released()).toEqual([{ agentId: 'agent-pia', missionId: 'm-1', attempt: 1, by: 'evaluator' }]);
    expect(await verdictMetrics()).toEqual({ verdicts: { not_judged: 1 }, scores: 0 });
  });

  it('given a verdict recorded before the evaluator died, when its message is redelivered, then the judge is not asked again; one never recorded is judged', async () => {
    const { evaluator, complete, eventsAfter } = setup();
    const judge = jest.spyOn(RuleBasedJudge.prototype, 'judge');
    try {
      const judgedBefore = await complete('m-1', lateCheckout);
      // The first delivery: judged and recorded, and then the evaluator died before its ack.
      await evaluator.evaluate(judgedBefore);
      // It used to be judged again (an LLM call with JUDGE=llm), only for the append to find it stale.
      await evaluator.evaluate(judgedBefore, { redelivered: true });
      expect(judge).toHaveBeenCalledTimes(1);
      expect((await eventsAfter(judgedBefore)).filter((event) => event.type === 'MissionEvaluated')).toHaveLength(1);

      // This one's evaluator died before it recorded anything: the redelivery is judged.
      const neverRecorded = await complete('m-2', lateCheckout);
      await evaluator.evaluate(neverRecorded, { redelivered: true });
      expect(judge).toHaveBeenCalledTimes(2);
      expect((await eventsAfter(neverRecorded)).map((event) => event.type)).toContain('MissionEvaluated');
    } finally {
      judge.mockRestore();
    }
  });

  it('given the last attempt fails the rubric, when it is evaluated, then the mission is dead-lettered in the same append', async () => {
    const { partition, store, queue, evaluator, complete, eventsAfter, released } = setup({ MAX_ATTEMPTS: '1' });
    const completed = await complete('m-1', lateCheckout, flawedModel);

    await evaluator.evaluate(completed);

    const [evaluated, deadLettered, ...rest] = await eventsAfter(completed);
    expect(rest).toEqual([]);
    const { score, reason } = evaluated.data as Evaluation;
    expect(deadLettered).toMatchObject({
      type: 'MissionDeadLettered',
      version: evaluated.version + 1,
      at: evaluated.at,
      data: { attempts: 1, lastError: reason },
    });
    expect(await store.load('m-1')).toMatchObject({ status: 'dead_lettered', lastError: reason });
    expect(await redis.zscore(partition.deadLetters, 'm-1')).not.toBeNull();
    expect(await queue.readyIds()).toEqual([]);
    expect(await released()).toEqual([{ agentId: 'agent-pia', missionId: 'm-1', attempt: 1, credit: { delta: -5, score, passed: false }, by: 'evaluator' }]);
  });

  it.each([
    ['a passing', draftingModel, 'succeeded'],
    ['a failing', flawedModel, 'queued'],
  ])('given %s verdict already recorded, when the same completed message comes again, then nothing changes', async (_kind, model, status) => {
    const { store, evaluator, complete, released, verdictsCounted } = setup({ MAX_ATTEMPTS: '3' });
    const completed = await complete('m-1', lateCheckout, model);
    await evaluator.evaluate(completed);
    const judged = await store.load('m-1');
    const history = await store.history('m-1');

    await evaluator.evaluate(completed);

    expect(judged?.status).toBe(status);
    expect(await store.load('m-1')).toEqual(judged);
    expect(await store.history('m-1')).toEqual(history);
    expect(await released()).toHaveLength(1);
    expect(await verdictsCounted()).toBe(1);
  });

  it('given the same completed message handled twice at once, when both are evaluated, then one verdict is recorded and the agent released once', async () => {
    const { evaluator, complete, eventsAfter, released, verdictsCounted } = setup();
    const completed = await complete('m-1', lateCheckout);

    await Promise.all([evaluator.evaluate(completed), evaluator.evaluate(completed)]);

    expect((await eventsAfter(completed)).map((event) => event.type)).toEqual(['MissionEvaluated']);
    expect(await released()).toHaveLength(1);
    expect(await verdictsCounted()).toBe(1);
  });

  it('given a mission whose own limits contradict each other, when its attempt fails, then it is dead-lettered at once as a permanent failure', async () => {
    const { partition, store, evaluator, complete, eventsAfter } = setup({ MAX_ATTEMPTS: '3', RETRY_BASE_MS: '1000' });
    const completed = await complete('m-1', conflictingRates);

    await evaluator.evaluate(completed);

    const [evaluated, deadLettered, ...rest] = await eventsAfter(completed);
    expect(rest).toEqual([]);
    expect(evaluated).toMatchObject({ type: 'MissionEvaluated', data: { passed: false } });
    expect(deadLettered).toMatchObject({
      type: 'MissionDeadLettered',
      data: { reason: expect.stringContaining('permanent failure: minRate 189 is above maxRate 169'), attempts: 1 },
    });
    expect(await redis.zscore(partition.deadLetters, 'm-1')).not.toBeNull();
    expect((await store.load('m-1'))?.status).toBe('dead_lettered');
  });

  it('given RETRY_BASE_MS, when a verdict fails with attempts left, then the next attempt is scheduled after its backoff with the feedback', async () => {
    const { partition, store, queue, evaluator, complete, eventsAfter } = setup({ MAX_ATTEMPTS: '3', RETRY_BASE_MS: '1000' });
    const completed = await complete('m-1', lateCheckout, flawedModel);

    await evaluator.evaluate(completed);

    const [evaluated, scheduled] = await eventsAfter(completed);
    const { reason } = evaluated.data as Evaluation;
    expect(scheduled).toMatchObject({ type: 'MissionScheduled', data: { reason: 'retry', feedback: reason } });
    const mission = await store.load('m-1');
    expect(mission).toMatchObject({ status: 'scheduled', feedback: reason });
    expect(Date.parse(mission?.notBefore ?? '') - Date.parse(evaluated.at)).toBeGreaterThanOrEqual(500);
    expect(await redis.zscore(partition.scheduled('retry'), 'm-1')).not.toBeNull();
    expect(await queue.readyIds()).toEqual([]);
  });
  describe('a message it cannot handle', () => {
    const delivery = (deliveries: number) => new RedisStreamsContext(['stream', '1-0', deliveries, 0, 5]);

    it('given a judge that throws, when the message fails before its last delivery, then the error goes back to the transport and the mission is untouched', async () => {
      const { store, evaluator, complete, released } = setup({ MAX_ATTEMPTS: '3' }, NO_REVIEW_POLICY, new BrokenJudge());
      const completed = await complete('m-1', lateCheckout);

      await expect(new EvaluationConsumer(evaluator).missionCompleted({ mission: completed }, delivery(4))).rejects.toThrow(TypeError);

      expect(await store.load('m-1')).toEqual(completed);
      expect(await released()).toEqual([]);
    });

    it('given a judge that throws, when the message fails on its last delivery, then a failed verdict no judge gave is recorded with why, the agent released and the next attempt queued', async () => {
      const { store, queue, evaluator, complete, eventsAfter, released } = setup({ MAX_ATTEMPTS: '3' }, NO_REVIEW_POLICY, new BrokenJudge());
      const completed = await complete('m-1', lateCheckout);

      await new EvaluationConsumer(evaluator).missionCompleted({ mission: completed }, delivery(5));

      const [evaluated, queued] = await eventsAfter(completed);
      expect(evaluated).toMatchObject({
        type: 'MissionEvaluated',
        data: {
          attempt: 1,
          passed: false,
          score: 0,
          judge: 'none',
          reason: expect.stringMatching(/^not judged: the evaluator gave up after 5 deliveries: TypeError: /),
        },
      });
      expect(queued.type).toBe('MissionQueued');
      expect(await store.load('m-1')).toMatchObject({ status: 'queued', attempts: 1 });
      expect(await released()).toEqual([expect.objectContaining({ agentId: 'agent-pia', missionId: 'm-1', attempt: 1 })]);
      expect(await queue.readyIds()).toEqual(['m-1']);
    });
  });
});
