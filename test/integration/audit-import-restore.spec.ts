import { Readable, Writable } from 'node:stream';
import { AgentRegistry, AgentSlots, ClaimCode, ReleaseCode } from '@app/agents';
import { exportLog, ImportResult, importLog, verifyLog } from '@app/audit';
import { KeyLayout, MISSION_HASH_FIELDS, MissionStore, PartitionKeys } from '@app/event-store';
import { MESSAGE_ROUTES } from '@app/messages';
import {
  Decision,
  decideAssign,
  decideComplete,
  decideCreate,
  decideFailure,
  decideOverdue,
  decideStart,
  decideVerdict,
  Mission,
  MissionCreateDto,
} from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { MissionPipeline, RESTORED_ATTEMPT_CONSUMER } from '@app/pipeline';
import { aResult, anEvaluation, deleteKeysByPrefix, streamFields, TEST_QUEUE_ORDER, testKeyPrefix, testRedis } from '@app/testing';

const HOUR = 3_600_000;

/** The missions of the source, one in each unfinished state, and one finished. */
const M = {
  queued: 'm-queued',
  overdue: 'm-overdue',
  delayed: 'm-delayed',
  retry: 'm-retry',
  review: 'm-review',
  dead: 'm-dead',
  assigned: 'm-assigned',
  running: 'm-running',
  evaluating: 'm-evaluating',
  done: 'm-done',
} as const;

describe('import restores the indexes and messages of unfinished missions (real Redis)', () => {
  const redis = testRedis();
  const sourcePrefix = testKeyPrefix('audit-restore-src');
  const copyPrefix = testKeyPrefix('audit-restore-copy');
  const source = new KeyLayout(sourcePrefix);
  const copy = new KeyLayout(copyPrefix);
  /** The export of the source, as a file would hold it. */
  let exported = '';
  let imported: ImportResult;
  const queue = new ReadyQueue(redis, source, TEST_QUEUE_ORDER);
  const pipeline = new MissionPipeline(new MissionStore(redis, source), queue);

  const create = async (id: string, input: Partial<MissionCreateDto> = {}): Promise<void> => {
    const body: MissionCreateDto = { type: 'maintenance', title: `Tap ${id}`, description: 'Drips', priority: 'high', payload: {}, ...input };
    const created = await pipeline.append(id, null, decideCreate(body, new Date()), { actor: 'test' });
    expect(created.code).toBe(0);
  };
  const step = async (id: string, decide: (mission: Mission) => Decision, leaseId?: string): Promise<void> => {
    expect((await pipeline.transition(id, decide, { actor: 'test', leaseId })).kind).toBe('appended');
  };
  /** As the orchestrator assigns: on a lease of the ready queue's best mission (the only one, when this runs). */
  const assign = async (id: string) => {
    const leased = await queue.lease(0, 1, 60_000, `lease-${id}`);
    expect(leased.map(({ mission }) => mission.id)).toEqual([id]);
    await step(id, (m) => decideAssign(m, 'agent-1'), `lease-${id}`);
  };
  const backoff = { baseMs: HOUR, maxMs: HOUR, now: new Date() };
  const run = async (id: string) => {
    await assign(id);
    await step(id, (m) => decideStart(m, 1, `run-${id}`));
  };

  beforeAll(async () => {
    const inAnHour = new Date(Date.now() + HOUR).toISOString();
    await create(M.delayed, { notBefore: inAnHour, deadline: new Date(Date.now() + 3 * HOUR).toISOString() });
    await create(M.retry);
    await run(M.retry);
    await step(M.retry, (m) => decideFailure(m, 1, 'timeout', 3, { backoff }));
    await create(M.review);
    await run(M.review);
    await step(M.review, (m) => decideComplete(m, 1, aResult()));
    await step(M.review, (m) => decideVerdict(m, anEvaluation(1, true), 3, { reviewRule: 'guest-replies' }));
    await create(M.dead);
    await run(M.dead);
    await step(M.dead, (m) => decideFailure(m, 1, 'refused', 1));
    await create(M.assigned, { deadline: new Date(Date.now() + 2 * HOUR).toISOString() });
    await assign(M.assigned);
    await create(M.running);
    await run(M.running);
    await create(M.evaluating);
    await run(M.evaluating);
    await step(M.evaluating, (m) => decideComplete(m, 1, aResult()));
    await create(M.done, { deadline: inAnHour });
    await run(M.done);
    await step(M.done, (m) => decideComplete(m, 1, aResult()));
    await step(M.done, (m) => decideVerdict(m, anEvaluation(1, true), 3));
    // Last, so that each assignment above leased the only ready mission.
    await create(M.queued, { deadline: new Date(Date.now() + 2 * HOUR).toISOString(), requiredSkills: ['plumbing', 'tools'] });
    await create(M.overdue, { deadline: new Date(Date.now() - HOUR).toISOString(), priority: 'low' });
    await step(M.overdue, (m) => decideOverdue(m, new Date()));

    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    await exportLog(redis, source, sink);
    exported = Buffer.concat(chunks).toString('utf8');
    imported = await importLog(redis, copy, Readable.from([exported]), undefined, { queueOrder: TEST_QUEUE_ORDER });
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, sourcePrefix);
    await deleteKeysByPrefix(redis, copyPrefix);
    await redis.quit();
  });

  const states = async (keys: KeyLayout): Promise<Record<string, string>> => {
    const result: Record<string, string> = {};
    for (const id of Object.values(M)) result[id] = (await redis.hget(keys.mission(id), MISSION_HASH_FIELDS.status)) ?? '';
    return result;
  };

  it('given missions in every unfinished state, then the source holds them in the states the test means', async () => {
    expect(await states(source)).toEqual({
      [M.queued]: 'queued',
      [M.overdue]: 'queued',
      [M.delayed]: 'scheduled',
      [M.retry]: 'scheduled',
      [M.review]: 'awaiting_review',
      [M.dead]: 'dead_lettered',
      [M.assigned]: 'assigned',
      [M.running]: 'running',
      [M.evaluating]: 'evaluating',
      [M.done]: 'succeeded',
    });
  });

  it('given an export imported into a fresh prefix, then every effect-kept set holds the same missions with the same scores as the source', async () => {
    const zsets = (k: PartitionKeys) => [
      k.ready,
      k.readySince,
      k.scheduled('delayed'),
      k.scheduled('retry'),
      k.deadlines,
      k.overdue,
      k.awaitingReview,
      k.reviewDeadlines,
      k.deadLetters,
      k.leased,
      `${k.readyWithSkillsPrefix}plumbing,tools`,
      `${k.readyWithSkillsPrefix}plumbing`,
    ];
    const [from, to] = [source.partitions[0], copy.partitions[0]];
    const read = async (k: PartitionKeys) => ({
      zsets: await Promise.all(zsets(k).map((key) => redis.zrange(key, 0, -1, 'WITHSCORES'))),
      byLevel: await redis.hgetall(k.readyByLevel),
      bySkills: await redis.hgetall(k.readyBySkills),
      // The queue fields of each unfinished mission's hash (a finished one's are leftovers nothing reads).
      missions: await Promise.all(
        Object.values(M)
          .filter((id) => id !== M.done)
          .map((id) =>
            redis.hmget(
              k.mission(id),
              MISSION_HASH_FIELDS.readyScore,
              MISSION_HASH_FIELDS.enqueuedAt,
              MISSION_HASH_FIELDS.priorityLevel,
              MISSION_HASH_FIELDS.skillSet,
              MISSION_HASH_FIELDS.state,
            ),
          ),
      ),
    });
    const expected = await read(from);
    // The source is as the test means it: each set holds its missions (in any order: missions made
    // in one millisecond tie on ready-since, and ties are ordered by id).
    expect(expected.zsets.slice(0, 9).map((members) => members.filter((_, i) => i % 2 === 0).sort())).toEqual(
      [
        [M.overdue, M.queued],
        [M.queued, M.overdue],
        [M.delayed],
        [M.retry],
        [M.assigned, M.queued, M.delayed],
        [M.overdue],
        [M.review],
        [M.review],
        [M.dead],
      ].map((members) => [...members].sort()),
    );
    expect(await read(to)).toEqual(expected);
  });

  it('given missions in flight at export, then the copy holds the message that drives each on, a running one pending for an executor to reclaim as lost', async () => {
    const k = copy.partitions[0];
    const messages = async (stream: string) =>
      ((await redis.xrange(stream, '-', '+')) as [string, string[]][]).map(([id, fields]) => {
        const { pattern, data } = streamFields(fields);
        return { id, pattern, mission: (JSON.parse(data) as { mission: Mission }).mission };
      });
    const executor = await messages(k.stream(MESSAGE_ROUTES['mission.assigned']));
    expect(executor.map(({ pattern, mission }) => [pattern, mission.id, mission.status])).toEqual([
      ['mission.assigned', M.running, 'running'],
      ['mission.assigned', M.assigned, 'assigned'],
    ]);
    for (const { mission } of executor) expect(JSON.stringify(mission)).toBe(await redis.hget(copy.mission(mission.id), MISSION_HASH_FIELDS.state));
    const pending = (await redis.xpending(k.stream('executor'), 'executor', '-', '+', 10)) as [string, string, number, number][];
    expect(pending.map(([id, consumer, , deliveries]) => [id, consumer, deliveries])).toEqual([[executor[0].id, RESTORED_ATTEMPT_CONSUMER, 1]]);
    const evaluator = await messages(k.stream(MESSAGE_ROUTES['mission.completed']));
    expect(evaluator.map(({ pattern, mission }) => [pattern, mission.id, mission.status])).toEqual([['mission.completed', M.evaluating, 'evaluating']]);
    // Nothing else: no agent release, nudge or message of a past attempt is written again.
    expect(await redis.xlen(k.stream('orchestrator'))).toBe(0);
  });

  // The attempts in flight held no slot in the copy: the orchestrator filled their agent up to its
  // capacity beside them.
  it('given attempts in flight at export, then the copy holds their agent slots, claims beyond the capacity are refused, and an attempt end frees its slot', async () => {
    const slots = new AgentSlots(redis, copy);
    const inFlight = [M.assigned, M.running, M.evaluating].map((missionId) => ({ agentId: 'agent-1', missionId, attempt: 1 }));
    expect(imported.agentSlots).toBe(3);
    expect((await slots.holds()).map(({ agentId, missionId, attempt }) => ({ agentId, missionId, attempt }))).toEqual(expect.arrayContaining(inFlight));
    expect(await slots.holds()).toHaveLength(3);
    // The agent registered after the import (as a seed at the services' start) keeps the load.
    await new AgentRegistry(redis, copy).register(
      { id: 'agent-1', name: 'Agent 1', skills: ['plumbing'], capacity: 3, credits: 10, model: 'mock', systemPrompt: '' },
      'test',
    );
    expect(await redis.hget(copy.agentLoad, 'agent-1')).toBe('3');
    const next = { agentId: 'agent-1', missionId: M.queued, attempt: 1 };
    expect((await slots.claim([next])).map(({ code }) => code)).toEqual([ClaimCode.AgentFull]);
    expect(await slots.endAttempt(inFlight[0])).toBe(ReleaseCode.Released);
    expect((await slots.claim([next])).map(({ code }) => code)).toEqual([ClaimCode.Claimed]);
  });

  it('given the import, then verify passes on the copy and its status counters are those of the source', async () => {
    expect(await verifyLog(redis, copy)).toMatchObject({ ok: true, findings: [] });
    expect(await redis.hgetall(copy.partitions[0].statusCounts)).toEqual(await redis.hgetall(source.partitions[0].statusCounts));
  });

  it('given a prefix its services have run on, then an import into it is refused before anything is written', async () => {
    const usedPrefix = testKeyPrefix('import-restore-used');
    const used = new KeyLayout(usedPrefix);
    // What an executor's start leaves: its stream and group.
    await redis.xgroup('CREATE', used.partitions[0].stream(MESSAGE_ROUTES['mission.assigned']), MESSAGE_ROUTES['mission.assigned'], '0', 'MKSTREAM');
    try {
      await expect(importLog(redis, used, Readable.from([exported]), undefined, { queueOrder: TEST_QUEUE_ORDER })).rejects.toThrow(
        /its services have run on it .*stream:executor exists\); stop them and purge the prefix/,
      );
      expect(await redis.exists(used.partitions[0].log, used.partitions[0].missionIndex)).toBe(0);
    } finally {
      await deleteKeysByPrefix(redis, usedPrefix);
    }
  });
});
