import Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { summarize } from '@app/audit';
import { loadEnvironment } from '@app/config';
import { LlmJudge, RUBRICS, RuleBasedJudge } from '@app/evaluation';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { OpenAiLlmClient } from '@app/llm';
import { decideAssign, decideCancel, decideComplete, decideCreate, decideStart, Mission, NO_REVIEW_POLICY } from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { DailyReportProjection, DailyReportReader, DailyReportRow, ProjectionRunner } from '@app/projections';
import { MetricsRegistry } from '@app/runtime';
import { deleteKeysByPrefix, FakeChatCompletionsServer, redisUrl, TEST_QUEUE_ORDER, testKeyPrefix, testPersonalData, testRedis, waitFor } from '@app/testing';
import { EvaluationMetrics } from '../../apps/evaluator/src/evaluation/evaluation-metrics';
import { EvaluationService } from '../../apps/evaluator/src/evaluation/evaluation.service';
import { RefusingProxy } from '../support/refusing-proxy';
import { ReplyDroppingProxy } from '../support/reply-dropping-proxy';

/** The agent's attempt as the executor recorded it: what its own call was billed. */
const AGENT_USAGE = { promptTokens: 100, completionTokens: 50 };
const AGENT_COST = 0.0001;
/** What the judge's call is billed: 1200 × $1 + 300 × $3 per million tokens. */
const JUDGE_USAGE = { promptTokens: 1200, completionTokens: 300 };
const JUDGE_COST = 0.0021;

describe('a verdict the mission moved past while the LLM judge thought (real Redis, an OpenAI-compatible server on loopback)', () => {
  const prefix = testKeyPrefix('stale-verdict');
  const keys = new KeyLayout(prefix);
  const redis = testRedis();
  const store = new MissionStore(redis, keys);
  const server = new FakeChatCompletionsServer();
  const target = new URL(redisUrl());
  // The verdict's first append takes effect, its reply is lost, and ioredis sends it again.
  const proxy = new ReplyDroppingProxy({ host: target.hostname, port: Number(target.port || 6379) }, (sent) =>
    sent.includes('"type":"MissionEvaluated"') ? 'MissionEvaluated' : null,
  );
  // The evaluator's first append of mission events reaches Redis, and then the evaluator is as good as
  // dead: no reply comes back, nothing more it sends gets through (until the test ends, minutes later).
  const dying = new ReplyDroppingProxy(
    { host: target.hostname, port: Number(target.port || 6379) },
    (sent) => (/"type":"(MissionEvaluated|LateReplyBilled)"/.test(sent) ? 'first append' : null),
    1,
    600_000,
  );
  // The same, holding the lost reply until the test releases it, so that the mission moves on first.
  const holding = new ReplyDroppingProxy(
    { host: target.hostname, port: Number(target.port || 6379) },
    (sent) => (sent.includes('"type":"MissionEvaluated"') ? 'MissionEvaluated' : null),
    1,
    600_000,
  );
  // The same, its connection then cut, for an evaluator whose ioredis gives up on the append (maxRetriesPerRequest 0).
  const givingUp = new ReplyDroppingProxy(
    { host: target.hostname, port: Number(target.port || 6379) },
    (sent) => (sent.includes('"type":"MissionEvaluated"') ? 'MissionEvaluated' : null),
    1,
    600_000,
  );
  // Redis refusing the verdict's append (out of memory) until the test lets it through; the other, until the end.
  const refusing = new RefusingProxy({ host: target.hostname, port: Number(target.port || 6379) }, (sent) => sent.includes('"type":"MissionEvaluated"'));
  const refusingToTheEnd = new RefusingProxy({ host: target.hostname, port: Number(target.port || 6379) }, (sent) =>
    sent.includes('"type":"MissionEvaluated"'),
  );
  const connections: Redis[] = [];
  /** Connections of an evaluator that died: closed without a word, as their process cannot send one. */
  const dead: Redis[] = [];

  /** An evaluator with JUDGE=llm on `connection`, its judge the loopback server's house model. */
  const evaluatorOn = (connection: Redis) => {
    const evaluatorStore = new MissionStore(connection, keys);
    const judge = new OpenAiLlmClient({
      baseUrl: server.baseUrl,
      apiKey: 'test',
      model: 'house-model',
      maxRetries: 0,
      prices: { 'house-model': { inputPerMillion: 1, outputPerMillion: 3 } },
    });
    return new EvaluationService(
      new MissionPipeline(evaluatorStore, new ReadyQueue(connection, keys, TEST_QUEUE_ORDER)),
      evaluatorStore,
      loadEnvironment({ KEY_PREFIX: prefix, RETRY_BASE_MS: '0' }),
      new RuleBasedJudge(),
      new LlmJudge(judge, 5_000),
      new PinoLogger({ pinoHttp: { level: 'silent' } }),
      new EvaluationMetrics(new MetricsRegistry('evaluator')),
      NO_REVIEW_POLICY,
      testPersonalData(connection, prefix),
    );
  };

  /** A guest request whose first attempt agent-a completed, awaiting its verdict. */
  const completedMission = async (missionId: string): Promise<Mission> => {
    const created = await store.append(
      missionId,
      null,
      decideCreate({ type: 'guest_support', title: 'Late check-out', description: 'Guest asks to leave at 14:00.', priority: 'normal', payload: {} }),
      { actor: 'test' },
    );
    if (created.code !== AppendCode.Ok) throw new Error('create failed');
    let mission = created.mission;
    const result = { output: { reply: 'Gern bis 14 Uhr.' }, model: 'house-model', latencyMs: 5, usage: AGENT_USAGE, costUsd: AGENT_COST };
    for (const decide of [
      (m: Mission) => decideAssign(m, 'agent-a'),
      (m: Mission) => decideStart(m, 1, 'run-1'),
      (m: Mission) => decideComplete(m, 1, result, 'run-1'),
    ]) {
      const outcome = await store.transition(mission, decide, { actor: 'test' });
      if (outcome.kind !== 'appended') throw new Error(`setup step skipped: ${outcome.kind}`);
      mission = outcome.mission;
    }
    return mission;
  };

  /** The judge's answer: no criterion met, so the attempt fails and the next one is queued at once (RETRY_BASE_MS 0). */
  const noMarks = JSON.stringify({
    criteria: RUBRICS.guest_support.criteria.map((c) => ({ criterion: c.name, score: 0 })),
    reason: 'Does not answer the request.',
  });

  /** The judge's answer: every criterion of the rubric fully met. */
  const fullMarks = JSON.stringify({
    criteria: RUBRICS.guest_support.criteria.map((c) => ({ criterion: c.name, score: 1 })),
    reason: 'Answers the request politely and completely.',
  });

  /** The day's report row for guest requests; a test compares it before and after, as the prefix holds the other test's mission too. */
  const projection = new DailyReportProjection(keys);
  const reportRow = async (day: string) => {
    await new ProjectionRunner(redis, keys, projection).catchUp();
    return (await new DailyReportReader(redis, projection).read(day, day, ['guest_support'])).rows[0];
  };

  /** What a day's counts grew by from `before` to `after` (the row of the day the mission's events happened, maybe the next). */
  const addedSince =
    (before: DailyReportRow, after: DailyReportRow) =>
    (metric: 'evaluations' | 'cancelled' | 'promptTokens' | 'completionTokens' | 'costUsd'): number =>
      after[metric] - (after.day === before.day ? before[metric] : 0);

  beforeAll(async () => {
    await server.start();
    await proxy.start();
    await dying.start();
    await holding.start();
    await givingUp.start();
    await refusing.start();
    await refusingToTheEnd.start();
  });
  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.quit()));
    // One the test closed already is left alone: a second disconnect arms a timer nothing clears.
    dead.filter((connection) => connection.status !== 'end').forEach((connection) => connection.disconnect());
    await proxy.stop();
    await dying.stop();
    await holding.stop();
    await givingUp.stop();
    await refusing.stop();
    await refusingToTheEnd.stop();
    await server.stop();
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it("given the mission is cancelled while the judge's reply is held, when the reply comes, then the log holds its billed call as LateReplyBilled and the daily report counts its tokens and cost", async () => {
    const before = await reportRow(new Date().toISOString().slice(0, 10));
    let answer: () => void = () => undefined;
    server.enqueue({ status: 200, content: fullMarks, usage: JUDGE_USAGE, until: new Promise<void>((resolve) => (answer = resolve)) });
    const evaluator = evaluatorOn(redis);
    const completed = await completedMission('m-judged-late');

    const judging = evaluator.evaluate(completed);
    await waitFor(async () => server.requests.length === 1, { timeoutMs: 5_000, what: "the judge's call to reach the provider" });
    expect((await store.transition(completed.id, (m) => decideCancel(m, 'guest checked out'), { actor: 'test' })).kind).toBe('appended');
    answer();
    await judging;

    const history = await store.history(completed.id);
    expect(history.slice(completed.version).map((e) => e.type)).toEqual(['MissionCancelled', 'LateReplyBilled']);
    const late = history[history.length - 1];
    expect(late).toMatchObject({ actor: 'evaluator', data: { attempt: 1, agentId: 'agent-a', usage: JUDGE_USAGE, judge: true, runId: expect.any(String) } });
    expect(late.type === 'LateReplyBilled' ? late.data.costUsd : undefined).toBeCloseTo(JUDGE_COST, 10);
    expect(summarize(late)).toBe("judge's reply billed on agent-a's attempt 1 (its verdict could not be recorded): 1200+300 tokens, $0.0021");
    expect(await store.load(completed.id)).toMatchObject({ status: 'cancelled', attempts: 1, evaluation: null });

    const after = await reportRow(late.at.slice(0, 10));
    const added = addedSince(before, after);
    expect({ evaluations: added('evaluations'), cancelled: added('cancelled') }).toEqual({ evaluations: 0, cancelled: 1 });
    // The agent's call, recorded with its result, and the judge's.
    expect({ promptTokens: added('promptTokens'), completionTokens: added('completionTokens') }).toEqual({
      promptTokens: AGENT_USAGE.promptTokens + JUDGE_USAGE.promptTokens,
      completionTokens: AGENT_USAGE.completionTokens + JUDGE_USAGE.completionTokens,
    });
    expect(added('costUsd')).toBeCloseTo(AGENT_COST + JUDGE_COST, 10);
  });

  it("given the mission is cancelled while the judge thinks, when the evaluator dies right after its first append and the message is redelivered, then the log holds the judge's billed call exactly once", async () => {
    let answer: () => void = () => undefined;
    server.enqueue({ status: 200, content: fullMarks, usage: JUDGE_USAGE, until: new Promise<void>((resolve) => (answer = resolve)) });
    const doomed = new Redis(dying.url, { lazyConnect: true });
    dead.push(doomed);
    const completed = await completedMission('m-judged-evaluator-died');
    const callsBefore = server.requests.length;

    const doomedEvaluator = evaluatorOn(doomed);
    const judging = doomedEvaluator.evaluate(completed);
    await waitFor(async () => server.requests.length === callsBefore + 1, { timeoutMs: 5_000, what: "the judge's call to reach the provider" });
    expect((await store.transition(completed.id, (m) => decideCancel(m, 'guest checked out'), { actor: 'test' })).kind).toBe('appended');
    answer();
    // Redis has run the first append the evaluator sent; the evaluator never hears of it, nor writes again.
    await waitFor(async () => dying.withheldReplies > 0, { timeoutMs: 5_000, what: "the evaluator's first append to run" });
    expect(dying.trips.map((trip) => trip.label)).toEqual(['first append']);

    // Its message, never acked, goes to another evaluator, which finds the verdict moot and asks no judge.
    await evaluatorOn(redis).evaluate(completed, { redelivered: true });
    // Its process is gone: it retries its append no more (it would, Redis refusing it, while it lived).
    doomedEvaluator.onModuleDestroy();
    doomed.disconnect();
    await judging.catch(() => undefined);

    expect(server.requests).toHaveLength(callsBefore + 1);
    const history = await store.history(completed.id);
    expect(history.slice(completed.version).map((e) => e.type)).toEqual(['MissionCancelled', 'LateReplyBilled']);
    expect(history[history.length - 1]).toMatchObject({ actor: 'evaluator', data: { attempt: 1, agentId: 'agent-a', usage: JUDGE_USAGE, judge: true } });
  });

  it("given the verdict's append took effect and its reply was lost, when the resent append meets it, then the judge's call is counted once, with the verdict", async () => {
    const before = await reportRow(new Date().toISOString().slice(0, 10));
    server.enqueue({ status: 200, content: fullMarks, usage: JUDGE_USAGE });
    const connection = new Redis(proxy.url, { lazyConnect: true });
    connections.push(connection);
    const completed = await completedMission('m-judged-lost-reply');

    await evaluatorOn(connection).evaluate(completed);

    expect(proxy.trips.map((trip) => trip.label)).toEqual(['MissionEvaluated']);
    const history = await store.history(completed.id);
    expect(history.slice(completed.version).map((e) => e.type)).toEqual(['MissionEvaluated']);
    expect(history[history.length - 1]).toMatchObject({ data: { passed: true, usage: JUDGE_USAGE, runId: expect.any(String) } });

    const after = await reportRow(history[history.length - 1].at.slice(0, 10));
    const added = addedSince(before, after);
    expect({ promptTokens: added('promptTokens'), completionTokens: added('completionTokens') }).toEqual({
      promptTokens: AGENT_USAGE.promptTokens + JUDGE_USAGE.promptTokens,
      completionTokens: AGENT_USAGE.completionTokens + JUDGE_USAGE.completionTokens,
    });
  });

  it("given a failing verdict's append took effect and its reply was lost, when the next attempt is assigned before the resend meets it, then the judge's call is counted once, with the verdict, not again as LateReplyBilled", async () => {
    server.enqueue({ status: 200, content: noMarks, usage: JUDGE_USAGE });
    const connection = new Redis(holding.url, { lazyConnect: true });
    connections.push(connection);
    const completed = await completedMission('m-judged-moved-past');

    const judging = evaluatorOn(connection).evaluate(completed);
    // The verdict ran (the attempt failed, the next one queued); the evaluator waits for its reply.
    await waitFor(async () => holding.withheldReplies > 0, { timeoutMs: 5_000, what: "the verdict's append to run" });
    const assigned = await store.transition(completed.id, (m) => decideAssign(m, 'agent-b'), { actor: 'test' });
    // Its next attempt no longer shows the verdict in the mission's state: only the log does.
    expect(assigned).toMatchObject({ kind: 'appended', mission: { status: 'assigned', attempts: 2, evaluation: null } });
    holding.release();
    await judging;

    const history = await store.history(completed.id);
    expect(history.slice(completed.version).map((e) => e.type)).toEqual(['MissionEvaluated', 'MissionQueued', 'MissionAssigned']);
    expect(history[completed.version]).toMatchObject({ data: { passed: false, usage: JUDGE_USAGE, runId: expect.any(String) } });
  });

  it("given Redis refuses the verdict's append for a while (out of memory), when it takes it again, then the judge was asked once and its verdict, with the billed call, is recorded once", async () => {
    server.enqueue({ status: 200, content: fullMarks, usage: JUDGE_USAGE });
    const connection = new Redis(refusing.url, { lazyConnect: true });
    connections.push(connection);
    const completed = await completedMission('m-judged-refused');
    const callsBefore = server.requests.length;

    const judging = evaluatorOn(connection).evaluate(completed);
    await waitFor(async () => refusing.refusals >= 2, { timeoutMs: 5_000, what: "Redis to refuse the verdict's append twice" });
    refusing.refusing = false;
    await judging;

    expect(server.requests).toHaveLength(callsBefore + 1);
    const history = await store.history(completed.id);
    expect(history.slice(completed.version).map((e) => e.type)).toEqual(['MissionEvaluated']);
    expect(history[completed.version]).toMatchObject({ actor: 'evaluator', data: { passed: true, usage: JUDGE_USAGE, runId: expect.any(String) } });
  });

  it("given a failing verdict's append took effect and ioredis gave up on its reply, when the mission moved on before the retry, then the retry records nothing more: no LateReplyBilled beside the verdict", async () => {
    server.enqueue({ status: 200, content: noMarks, usage: JUDGE_USAGE });
    // No resend after the cut: the append fails as a transient error, and the evaluator's own retry comes instead.
    const connection = new Redis(givingUp.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    connections.push(connection);
    const completed = await completedMission('m-judged-gave-up');

    const judging = evaluatorOn(connection).evaluate(completed);
    await waitFor(async () => givingUp.withheldReplies > 0, { timeoutMs: 5_000, what: "the verdict's append to run" });
    const assigned = await store.transition(completed.id, (m) => decideAssign(m, 'agent-b'), { actor: 'test' });
    expect(assigned).toMatchObject({ kind: 'appended', mission: { status: 'assigned', attempts: 2, evaluation: null } });
    givingUp.release();
    await judging;

    const history = await store.history(completed.id);
    expect(history.slice(completed.version).map((e) => e.type)).toEqual(['MissionEvaluated', 'MissionQueued', 'MissionAssigned']);
    expect(history[completed.version]).toMatchObject({ data: { passed: false, usage: JUDGE_USAGE, runId: expect.any(String) } });
  });

  it("given Redis refuses the verdict's append, when the evaluator shuts down, then it stops retrying and the error goes back to the transport, the message left pending", async () => {
    server.enqueue({ status: 200, content: fullMarks, usage: JUDGE_USAGE });
    const connection = new Redis(refusingToTheEnd.url, { lazyConnect: true });
    connections.push(connection);
    const completed = await completedMission('m-judged-refused-at-shutdown');
    const evaluator = evaluatorOn(connection);

    const judging = evaluator.evaluate(completed);
    await waitFor(async () => refusingToTheEnd.refusals >= 1, { timeoutMs: 5_000, what: "Redis to refuse the verdict's append" });
    evaluator.onModuleDestroy();

    await expect(judging).rejects.toThrow('OOM command not allowed');
    expect((await store.history(completed.id)).slice(completed.version)).toEqual([]);
  });
});
