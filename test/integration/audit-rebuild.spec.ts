import { PinoLogger } from 'nestjs-pino';
import { AgentRegistry, AgentSlots } from '@app/agents';
import { Progress, rebuildReadModels, verifyLog } from '@app/audit';
import { loadEnvironment } from '@app/config';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { decideAssign, decideCancel, decideCreate, decideOverdue, fold, Mission } from '@app/mission';
import { queueKey, ReadyQueue } from '@app/mission-queue';
import { MissionPipeline, restoreMissionEffects } from '@app/pipeline';
import { MetricsRegistry } from '@app/runtime';
import {
  aCreate,
  deleteKeysByPrefix,
  enqueuedAt,
  escapeGlob,
  testKeyPrefix,
  buildKnownLog,
  KNOWN_EVENT_COUNT,
  KNOWN_MISSIONS,
  TEST_QUEUE_ORDER,
  testRedis,
} from '@app/testing';
import { ServiceTracer } from '@app/tracing';
import { DispatchMetrics } from '../../apps/orchestrator/src/dispatch/dispatch-metrics';
import { Dispatcher } from '../../apps/orchestrator/src/dispatch/dispatcher.service';
import { editEventInPlace } from '../support/log-rewrite';

const { ok, retry, dead, cancel, wait } = KNOWN_MISSIONS;

describe('rebuild (real Redis)', () => {
  const redis = testRedis();
  const prefixes: string[] = [];
  async function knownLog(name: string): Promise<{ keys: KeyLayout; store: MissionStore }> {
    const prefix = testKeyPrefix(`audit-rebuild-${name}`);
    prefixes.push(prefix);
    const keys = new KeyLayout(prefix);
    const { store } = await buildKnownLog(redis, keys);
    return { keys, store };
  }
  const scratchKeys = async (keys: KeyLayout): Promise<string[]> => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${escapeGlob(keys.prefix)}{m0}:rebuild:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found;
  };

  /** An empty prefix of one partition, with its store and ready queue. */
  function emptyQueue(name: string) {
    const prefix = testKeyPrefix(`audit-rebuild-${name}`);
    prefixes.push(prefix);
    const keys = new KeyLayout(prefix);
    return { prefix, keys, k: keys.partitions[0], store: new MissionStore(redis, keys), queue: new ReadyQueue(redis, keys, TEST_QUEUE_ORDER) };
  }
  /** A high-priority plumbing mission created and queued at `at` (ms), as the intake queues it. */
  const enqueuePlumbing = async (store: MissionStore, id: string, at: number, overrides: Partial<Parameters<typeof aCreate>[0]> = {}): Promise<Mission> => {
    const now = new Date(at);
    const result = await store.append(
      id,
      null,
      decideCreate(aCreate({ priority: 'high', requiredSkills: ['plumbing'], ...overrides }), now),
      { actor: 'intake', now },
      // A deadline is watched from the create on, as MISSION_EFFECTS has it.
      (mission) => [
        ...enqueuedAt(now)(mission),
        ...(overrides.deadline ? [{ kind: 'watch-deadline' as const, deadline: Date.parse(overrides.deadline) }] : []),
      ],
    );
    if (result.code !== AppendCode.Ok) throw new Error(`create ${id}: code ${result.code}`);
    return result.mission;
  };

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a hand-corrupted read model, then rebuild restores it, and leaves alone a mission that moved on during the rebuild', async () => {
    const { keys, store } = await knownLog('corrupt');
    const good = JSON.stringify(fold(await store.history(ok)));
    await redis.hset(keys.mission(ok), 's', JSON.stringify({ ...JSON.parse(good), title: 'tampered' }), 'st', 'queued');
    await redis.del(keys.mission(dead));
    // Drifted (in a field its next event overwrites), and moves on during the rebuild: it must keep its newer state.
    await redis.hset(keys.mission(wait), 's', JSON.stringify({ ...(await store.load(wait)), lastError: 'tampered' }));
    await redis.hset(keys.partitions[0].statusCounts, 'succeeded', 99);
    expect((await verifyLog(redis, keys)).ok).toBe(false);

    let movedOn: Mission | undefined;
    let seenDuringRebuild: Mission | null = null;
    let scratchDuringRebuild: string[] = [];
    const progress: Progress[] = [];
    const result = await rebuildReadModels(redis, keys, {
      batchSize: 7,
      writeBatchSize: 2,
      onProgress: (p) => progress.push(p),
      beforeSwitch: async () => {
        scratchDuringRebuild = await scratchKeys(keys);
        // Queries keep working on the live read model while the rebuild runs.
        seenDuringRebuild = await store.load(ok);
        const outcome = await store.transition(wait, (m) => decideAssign(m, 'agent-zoe'), { actor: 'orchestrator' });
        if (outcome.kind !== 'appended') throw new Error(`could not move ${wait} on: ${outcome.kind}`);
        movedOn = outcome.mission;
      },
    });

    // Only the drifted missions are written; retry and cancel already hold their replayed state.
    expect(scratchDuringRebuild.sort()).toEqual([ok, dead, wait].map((id) => keys.partitions[0].rebuildScratch(result.runId, id)).sort());
    expect(seenDuringRebuild).toMatchObject({ title: 'tampered' });
    expect(result).toMatchObject({
      events: KNOWN_EVENT_COUNT,
      missions: 5,
      unchanged: 2,
      switched: 2,
      restored: 1,
      skippedMovedOn: 1,
      skippedBehind: 0,
      unreplayable: [],
      countersRecounted: true,
    });
    expect(result.eventsPerSecond).toBeGreaterThan(0);
    // The hash gone is a break of the chains' heads, which the rebuild locates as verify does.
    expect(new Set(progress.map((p) => p.phase))).toEqual(
      new Set(['read log', 'check heads', 'locate breaks', 'find drifted missions', 'write scratch', 'switch']),
    );

    expect(await redis.hget(keys.mission(ok), 's')).toBe(good);
    expect(await redis.hget(keys.mission(ok), 'st')).toBe('succeeded');
    expect(await redis.hmget(keys.mission(dead), 'v', 'st')).toEqual(['7', 'dead_lettered']);
    expect(await store.load(dead)).toEqual(fold(await store.history(dead)));
    // The mission that moved on keeps its newer state, not the rebuilt version 2.
    expect(movedOn).toMatchObject({ version: 3, status: 'assigned', assignedAgentId: 'agent-zoe' });
    expect(await store.load(wait)).toEqual(movedOn);
    expect(await redis.hgetall(keys.partitions[0].statusCounts)).toEqual({ succeeded: '2', dead_lettered: '1', cancelled: '1', assigned: '1' });
    expect(await scratchKeys(keys)).toEqual([]);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // verify reported these, and rebuild, which compared only v, st and s, left them as they were.
  it('given a mission missing from the index and event lists cut short, lost or ending elsewhere, then rebuild writes them again from the log and verify passes', async () => {
    const { keys, store } = await knownLog('index-and-lists');
    const partition = keys.partitions[0];
    const historyOf = async (id: string) => (await store.history(id)).map((event) => event.type);
    const before = { retry: await historyOf(retry), cancel: await historyOf(cancel), wait: await historyOf(wait) };
    // Counters at 0 count as absent: a recount drops them.
    const nonZero = (counts: Record<string, string>) => Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== '0'));
    const counters = nonZero(await redis.hgetall(partition.statusCounts));
    const okCreatedAt = await redis.zscore(partition.missionIndex, ok);
    await redis.zrem(partition.missionIndex, ok);
    await redis.lpop(keys.missionEvents(retry));
    await redis.del(keys.missionEvents(cancel));
    await redis.rpush(keys.missionEvents(wait), (await redis.lindex(keys.missionEvents(ok), 0)) ?? '');
    expect((await verifyLog(redis, keys)).findings.map((finding) => finding.missionId).sort()).toEqual([cancel, ok, retry, wait].sort());

    const result = await rebuildReadModels(redis, keys, { batchSize: 4 });

    expect(result).toMatchObject({ unchanged: 1, switched: 4, restored: 0, reindexed: 1, relisted: 3, skippedMovedOn: 0, countersRecounted: true });
    expect(await redis.zscore(partition.missionIndex, ok)).toBe(okCreatedAt);
    expect({ retry: await historyOf(retry), cancel: await historyOf(cancel), wait: await historyOf(wait) }).toEqual(before);
    expect(nonZero(await redis.hgetall(partition.statusCounts))).toEqual(counters);
    expect(await scratchKeys(keys)).toEqual([]);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // Only the length and the last entry were compared: verify found the list wrong, and rebuild left it so.
  it('given an event list wrong only in the middle, then rebuild writes it again from the log and verify passes', async () => {
    const { keys, store } = await knownLog('middle-of-list');
    const historyOf = async (id: string) => (await store.history(id)).map((event) => event.version);
    const listed = await redis.lrange(keys.missionEvents(dead), 0, -1);
    expect(listed.length).toBeGreaterThan(3);
    await redis.lset(keys.missionEvents(dead), 1, listed[2]);
    await redis.lset(keys.missionEvents(dead), 2, listed[1]);
    expect((await verifyLog(redis, keys)).findings.map((finding) => finding.missionId)).toEqual([dead]);

    const result = await rebuildReadModels(redis, keys);

    expect(result).toMatchObject({ unchanged: 4, switched: 1, restored: 0, reindexed: 0, relisted: 1 });
    expect(await redis.lrange(keys.missionEvents(dead), 0, -1)).toEqual(listed);
    expect(await historyOf(dead)).toEqual(listed.map((_, i) => i + 1));
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // Its longer event list was taken for drift: every rebuild on a live system walked the log a second time.
  it('given a mission that moves on after the replay, then rebuild walks the log once and leaves it alone', async () => {
    const { keys } = await knownLog('moved-on-once');
    const reads = jest.spyOn(redis, 'xrangeBuffer');
    try {
      await rebuildReadModels(redis, keys, { batchSize: 5 });
      const cleanReads = reads.mock.calls.length;
      reads.mockClear();
      let movedOn = false;
      const result = await rebuildReadModels(redis, keys, {
        batchSize: 5,
        onProgress: (p) => {
          if (p.phase !== 'read log' || p.done !== p.total || movedOn) return;
          movedOn = true;
          // An append's traces, sent on the rebuild's own connection so they land before the comparison.
          void redis.multi().hincrby(keys.mission(wait), 'v', 1).rpush(keys.missionEvents(wait), '9999999999999-0').exec();
        },
      });

      expect(movedOn).toBe(true);
      expect(result).toMatchObject({ switched: 0, relisted: 0, reindexed: 0, skippedMovedOn: 1 });
      expect(reads.mock.calls.length).toBe(cleanReads);
    } finally {
      reads.mockRestore();
    }
  });

  it('given a mission whose events belong to another partition, then rebuild leaves it alone instead of writing it into this one', async () => {
    const { keys } = await knownLog('misplaced');
    // Read as two partitions, the missions of partition 1 have their events in partition 0's log.
    const two = new KeyLayout(keys.prefix, 2);
    const elsewhere = Object.values(KNOWN_MISSIONS).find((id) => two.partitionOf(id) === 1);
    if (!elsewhere) throw new Error('every known mission is in partition 0 of two');
    await redis.del(keys.mission(elsewhere));

    const result = await rebuildReadModels(redis, two);

    expect(result.unreplayable).toContain(elsewhere);
    expect(await redis.exists(keys.mission(elsewhere))).toBe(0);
    expect(result).toMatchObject({ restored: 0 });
  });

  it("given missions stored before the state named its creator, then verify names the drift, and rebuild records the create's actor as createdBy, also in a hash written whole", async () => {
    const { keys, store } = await knownLog('created-by');
    const [create] = await store.history(ok);
    const stored = (await store.load(ok)) as Mission;
    expect(stored.createdBy).toBe(create.actor);
    // A state as an older version stored it: no createdBy at all.
    const { createdBy: _createdBy, ...older } = stored;
    await redis.hset(keys.mission(ok), 's', JSON.stringify(older));
    await redis.del(keys.mission(retry));
    expect((await store.load(ok))?.createdBy).toBeUndefined();
    const before = await verifyLog(redis, keys);
    expect(before.findings.find((finding) => finding.missionId === ok)?.detail).toMatch(/s differs from the replayed state in createdBy/);

    const result = await rebuildReadModels(redis, keys);

    expect(result).toMatchObject({ switched: 2, restored: 1 });
    expect((await store.load(ok))?.createdBy).toBe(create.actor);
    expect((await store.load(retry))?.createdBy).toBe((await store.history(retry))[0].actor);
    expect((await verifyLog(redis, keys)).ok).toBe(true);
  });

  it('given a clean log, then rebuild finds every mission unchanged and writes nothing', async () => {
    const { keys } = await knownLog('clean');
    const ids = Object.values(KNOWN_MISSIONS);
    const before = await Promise.all(ids.map((id) => redis.hgetall(keys.mission(id))));
    const counters = await redis.hgetall(keys.partitions[0].statusCounts);

    const result = await rebuildReadModels(redis, keys);
    expect(result).toMatchObject({ unchanged: 5, switched: 0, restored: 0, skippedMovedOn: 0, countersRecounted: true });
    expect(await Promise.all(ids.map((id) => redis.hgetall(keys.mission(id))))).toEqual(before);
    expect(await redis.hgetall(keys.partitions[0].statusCounts)).toEqual(counters);
    expect(await scratchKeys(keys)).toEqual([]);
  });

  it('given a drifted mission whose last event leaves the log before the rebuild writes it, then rebuild leaves it alone and names it unreplayable', async () => {
    const { keys } = await knownLog('vanished');
    const tampered = JSON.stringify({ ...JSON.parse((await redis.hget(keys.mission(ok), 's')) ?? '{}'), title: 'tampered' });
    await redis.hset(keys.mission(ok), 's', tampered);
    const lastLogId = await redis.lindex(keys.missionEvents(ok), -1);
    if (!lastLogId) throw new Error(`${ok} has no events`);

    // The rebuild keeps no event text: it reads the last event back to hash it for the scratch copy's
    // h. Sent on the rebuild's own connection once drift is found, the XDEL lands before that read.
    let deleted = false;
    const result = await rebuildReadModels(redis, keys, {
      onProgress: (p) => {
        if (p.phase !== 'find drifted missions' || p.done !== p.total || deleted) return;
        deleted = true;
        void redis.xdel(keys.partitions[0].log, lastLogId);
      },
    });

    expect(deleted).toBe(true);
    expect(result).toMatchObject({ unchanged: 4, switched: 0, restored: 0, unreplayable: [ok] });
    expect(await redis.hget(keys.mission(ok), 's')).toBe(tampered);
    expect(await scratchKeys(keys)).toEqual([]);
  });

  // It replayed the changed log and switched the mission: the read model, the last record of what the log said, held the forgery.
  it("given an event edited in the log, then rebuild leaves its mission's read model as it was and names it, and repairs the others", async () => {
    const { keys, store } = await knownLog('edited-log');
    const target = await redis.lindex(keys.missionEvents(cancel), 2);
    await editEventInPlace(redis, keys, target ?? '', (json) => json.replace('"agentId":"agent-omar"', '"agentId":"agent-mallory"'));
    const truthful = await redis.hgetall(keys.mission(cancel));
    const good = JSON.stringify(fold(await store.history(ok)));
    await redis.hset(keys.mission(ok), 's', JSON.stringify({ ...JSON.parse(good), title: 'tampered' }));

    const result = await rebuildReadModels(redis, keys);

    // The events after the edited one, in the log and in its mission, are not blamed.
    expect(result).toMatchObject({ brokenChain: [cancel], unreplayable: [], switched: 1, unchanged: 3 });
    expect(await redis.hgetall(keys.mission(cancel))).toEqual(truthful);
    expect(await redis.hget(keys.mission(ok), 's')).toBe(good);
    expect(await scratchKeys(keys)).toEqual([]);
  });

  it('given events edited in the log with more broken links than are explained, then verify names the log edited and rebuild leaves every mission alone', async () => {
    const { keys } = await knownLog('edited-past-cap');
    await editEventInPlace(redis, keys, (await redis.lindex(keys.missionEvents(cancel), 2)) ?? '', (json) =>
      json.replace('"agentId":"agent-omar"', '"agentId":"agent-mallory"'),
    );
    await editEventInPlace(redis, keys, (await redis.lindex(keys.missionEvents(ok), 4)) ?? '', (json) => json.replace('"latencyMs":1200', '"latencyMs":12'));
    await redis.del(keys.mission(dead));
    // Each edit breaks the link of the next event in the log and of its mission's next event: more than the two explained.
    const limits = { maxBrokenLinks: 2 };

    const verified = await verifyLog(redis, keys, undefined, limits);
    expect(verified.ok).toBe(false);
    expect(verified.findings).toContainEqual({
      kind: 'edited',
      missionId: '',
      logId: '',
      detail: 'more than 2 broken links; only the first ones were explained',
    });
    const result = await rebuildReadModels(redis, keys, limits);
    expect(result).toMatchObject({ switched: 0, restored: 0 });
    expect(result.brokenChain.sort()).toEqual([ok, retry, dead, cancel, wait].sort());
    expect(await redis.exists(keys.mission(dead))).toBe(0);
  });

  // Each missing h counted as a broken link: past the cap verify said the log was edited, and rebuild left every mission alone.
  it('given more missions whose hash was deleted than broken links are explained, and the log intact, then rebuild writes them all whole and verify passes', async () => {
    const { keys } = await knownLog('unhashed-past-cap');
    const truthful = await Promise.all([ok, retry, dead, cancel].map((id) => redis.hgetall(keys.mission(id))));
    for (const id of [ok, retry, dead, cancel]) await redis.del(keys.mission(id));
    const limits = { maxBrokenLinks: 2 };

    const before = await verifyLog(redis, keys, undefined, limits);
    expect(before.findings.filter((f) => f.kind !== 'head-mismatch' && f.kind !== 'read-model-drift')).toEqual([]);
    expect(before.findings.filter((f) => f.kind === 'head-mismatch').map((f) => f.detail)).toEqual([
      expect.stringMatching(/ has no h \(hash of its last event\)$/),
      expect.stringMatching(/ has no h \(hash of its last event\)$/),
      'and 2 more missions have no h (hash of their last event), not named one by one',
    ]);
    const result = await rebuildReadModels(redis, keys, limits);
    expect(result).toMatchObject({ brokenChain: [], switched: 4, restored: 4 });
    // Each as it was, but for the queue fields a finished mission's last lease left, which nothing reads.
    for (const [i, id] of [ok, retry, dead, cancel].entries()) expect(truthful[i]).toMatchObject(await redis.hgetall(keys.mission(id)));
    expect(await verifyLog(redis, keys, undefined, limits)).toMatchObject({ ok: true, findings: [] });
  });

  it("given more missions whose hash was deleted than broken links are explained, one of them the log's last event's mission with that event edited, then rebuild leaves that one alone and writes the others", async () => {
    const { keys } = await knownLog('unhashed-past-cap-edited-last');
    const [[lastInLog]] = await redis.xrevrange(keys.partitions[0].log, '+', '-', 'COUNT', 1);
    expect(await redis.lindex(keys.missionEvents(retry), -1)).toBe(lastInLog);
    for (const id of [ok, dead, cancel, retry]) await redis.del(keys.mission(id));
    await editEventInPlace(redis, keys, lastInLog, (json) => json.replace(/"actor":"[^"]*"/, '"actor":"forged"'));

    // The log's last event's mission is met after the one explained: nothing but the log head vouched against its edit.
    const result = await rebuildReadModels(redis, keys, { maxBrokenLinks: 1 });

    expect(result).toMatchObject({ brokenChain: [retry], switched: 3, restored: 3 });
    expect(await redis.exists(keys.mission(retry))).toBe(0);
  });

  // With the mission hash gone, nothing but the log vouched for the mission's last event: rebuild restored the hash from the forged event.
  it.each([
    ['the log head', retry],
    ["the next event's logPrevHash", cancel],
  ])("given a mission's hash deleted and its last event edited, which only %s vouches against, then rebuild leaves it alone", async (_anchor, id) => {
    const { keys } = await knownLog(`edited-unhashed-${id}`);
    const last = await redis.lindex(keys.missionEvents(id), -1);
    const [[lastInLog]] = await redis.xrevrange(keys.partitions[0].log, '+', '-', 'COUNT', 1);
    expect(last === lastInLog).toBe(id === retry);
    await redis.del(keys.mission(id));
    await editEventInPlace(redis, keys, last ?? '', (json) => json.replace(/"actor":"[^"]*"/, '"actor":"forged"'));

    const result = await rebuildReadModels(redis, keys);

    expect(result).toMatchObject({ brokenChain: [id], switched: 0, restored: 0, unchanged: 4 });
    expect(await redis.exists(keys.mission(id))).toBe(0);
    expect(await scratchKeys(keys)).toEqual([]);
  });

  it("given a mission's hash deleted and the log head and the log intact, then rebuild writes it whole from the log", async () => {
    const { keys } = await knownLog('unhashed-intact');
    // The queue fields its last lease left in the hash of a finished mission are read by nothing,
    // and a finished mission is written without them.
    const { rs, ea, pl, sk, ...truthful } = await redis.hgetall(keys.mission(retry));
    expect({ rs, ea, pl, sk }).toEqual({ rs: expect.any(String), ea: expect.any(String), pl: 'high', sk: 'facility_maintenance' });
    await redis.del(keys.mission(retry));

    const result = await rebuildReadModels(redis, keys);

    expect(result).toMatchObject({ brokenChain: [], switched: 1, restored: 1, effectsRestored: 0 });
    expect(await redis.hgetall(keys.mission(retry))).toEqual(truthful);
  });

  // A rebuild interrupted after it wrote a lost mission's hash and before it restored its effects
  // left a whole hash (v, st, s, h) without the queue fields: the next run found nothing to do, and
  // the queued mission was never leased again (or, still in the ready queue, leased again and again).
  it.each([
    ['and its place in the ready queue lost with them', true],
    ['but still in the ready queue', false],
  ])("given a queued mission's hash whole but without its queue fields, %s, then rebuild mends it and it is leased once", async (_what, dequeued) => {
    const { keys } = await knownLog(`unqueued-${dequeued ? 'out' : 'in'}`);
    const k = keys.partitions[0];
    const queue = new ReadyQueue(redis, keys, TEST_QUEUE_ORDER);
    const truthful = await redis.hgetall(keys.mission(wait));
    const statsBefore = await queue.stats();
    expect(truthful).toMatchObject({ st: 'queued', pl: 'critical', sk: expect.any(String) });
    expect(statsBefore).toMatchObject({ ready: 1, leased: 0 });
    const { rs, ea, pl, sk } = truthful;
    if (dequeued) {
      await redis
        .multi()
        .zrem(k.ready, wait)
        .zrem(k.readySince, wait)
        .zrem(`${k.readyWithSkillsPrefix}${sk}`, wait)
        .hincrby(k.readyByLevel, pl, -1)
        .hincrby(k.readyBySkills, sk, -1)
        .exec();
    }
    await redis.hdel(keys.mission(wait), 'rs', 'ea', 'pl', 'sk');
    // Still in the ready queue, it stays counted where its hash no longer says: a lease could not uncount it.
    const drift = (detail: string) => expect.objectContaining({ kind: 'read-model-drift', missionId: '', detail: expect.stringContaining(detail) });
    const source = (field: string) => `differ from the ready queue ${k.ready} (its missions' ${field}): `;
    expect((await verifyLog(redis, keys)).findings).toEqual(
      dequeued
        ? [
            expect.objectContaining({
              kind: 'read-model-drift',
              missionId: wait,
              detail: 'it is queued, but in neither the ready queue nor a lease, so no lease hands it out',
            }),
          ]
        : [
            drift(`${k.readyByLevel} ${source('pl')}critical is 1, the ready queue holds 0 (ready without a pl, so counted nowhere: ${wait})`),
            drift(
              `${k.readyBySkills}, by which a lease picks the queues it reads, ${source('sk')}${sk} is 1, the ready queue holds 0 (ready without a sk, so counted nowhere: ${wait})`,
            ),
            drift(
              `${k.readyWithSkillsPrefix}${sk}, which a lease reads, differs from the ready queue ${k.ready} (its missions' sk): it holds ${wait}, which the ready queue does not hold with those skills`,
            ),
          ],
    );

    const result = await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER });

    expect(result).toMatchObject({ switched: 0, restored: 0, effectsMended: 1, brokenChain: [] });
    expect(await redis.hgetall(keys.mission(wait))).toEqual(truthful);
    expect(await redis.zscore(k.ready, wait)).toBe(rs);
    expect(await redis.zscore(k.readySince, wait)).toBe(ea);
    expect(await queue.stats()).toEqual({ ...statsBefore, oldestReadyAgeMs: expect.any(Number) });
    const caller = { freeAgents: [{ free: 2, skills: sk.split(',') }] };
    expect((await queue.lease(0, 10, 60_000, 'lease-mended-1', caller)).map(({ mission }) => mission.id)).toEqual([wait]);
    expect(await queue.lease(0, 10, 60_000, 'lease-mended-2', caller)).toEqual([]);
    // Leased now: a rerun leaves it alone rather than queue it a second time.
    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ effectsMended: 0, switched: 0 });
    expect(await redis.zscore(k.ready, wait)).toBeNull();
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // Rebuild finds a mission to mend, then restores its effects after its switch: a lease held
  // meanwhile changes no version, so only the lease itself tells the restore to leave it out of the
  // ready queue. It still writes the queue fields the lease's end queues it by: without them that
  // return left it in neither the ready queue nor a lease, which verify did not see.
  // (A lease passes over a mission without its queue fields: this one was leased before it lost them.)
  it('given a queued mission found without its queue fields and leased before its effects are restored, then the restore writes its queue fields alone and its lease ends in the ready queue', async () => {
    const { keys } = await knownLog('unqueued-leased');
    const k = keys.partitions[0];
    const queue = new ReadyQueue(redis, keys, TEST_QUEUE_ORDER);
    const { sk } = await redis.hgetall(keys.mission(wait));
    const caller = { freeAgents: [{ free: 2, skills: sk.split(',') }] };
    expect((await queue.lease(0, 10, 60_000, 'lease-before-restore', caller)).map(({ mission }) => mission.id)).toEqual([wait]);
    await redis.hdel(keys.mission(wait), 'rs', 'ea', 'pl', 'sk');
    const leased = await redis.zscore(k.leased, wait);

    const result = await restoreMissionEffects(redis, new MissionStore(redis, keys), [wait], {
      queueScore: (mission, enqueuedAt) => queueKey(mission, enqueuedAt, TEST_QUEUE_ORDER),
    });

    expect(result).toMatchObject({ restored: 1, movedOn: 0 });
    expect(await redis.zscore(k.ready, wait)).toBeNull();
    expect(await redis.zscore(k.leased, wait)).toBe(leased);
    expect(await redis.hget(keys.mission(wait), 'sk')).toBe(sk);
    expect(await queue.expireLeases(Date.now() + 120_000)).toBe(1);
    expect(await redis.zscore(k.ready, wait)).not.toBeNull();
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // docs/operations.md's remedy for a lost hash (rebuild) run while a lease held the mission: the
  // rebuild wrote its hash without the queue fields, and the lease's end left it out of the ready
  // queue (no-queue-fields), queued but in neither the ready queue nor a lease, and verify said ok.
  it('given a leased mission whose hash is deleted, when rebuild runs while the lease is held, then the lease ends with the mission ready at its old score, counted once', async () => {
    const { keys, k, store, queue } = emptyQueue('leased-lost');
    const t = Date.parse('2026-11-30T09:00:00.000Z');
    const created = await enqueuePlumbing(store, 'm1', t);
    const truthful = await redis.hgetall(keys.mission('m1'));
    expect((await queue.lease(0, 1, 60_000, 'lease-1')).map(({ mission }) => mission.id)).toEqual(['m1']);
    await redis.del(keys.mission('m1'));

    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ switched: 1, restored: 1, effectsRestored: 1 });
    expect(await redis.hgetall(keys.mission('m1'))).toEqual(truthful);
    expect(await redis.zscore(k.ready, 'm1')).toBeNull();

    const passedOver: string[] = [];
    expect(await queue.expireLeases(Date.now() + 120_000, { onUnreadable: (error) => passedOver.push(error.missionId) })).toBe(1);
    expect(passedOver).toEqual([]);
    expect(await redis.zscore(k.ready, 'm1')).toBe(String(queue.score(created, t)));
    expect(await queue.stats()).toMatchObject({ ready: 1, readyByPriority: { high: 1 }, leased: 0 });
    expect(await redis.hgetall(k.readyBySkills)).toEqual({ plumbing: '1' });
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ unchanged: 1, effectsMended: 0, readyCountsMended: 0 });
  });

  // verify compared no queue place: a queued mission in neither the ready queue nor a lease (which
  // no lease hands out), or leased without the queue fields its lease's end queues it by, passed.
  it('given a queued mission in neither the ready queue nor a lease, and one leased without its queue fields, then verify names each, and rebuild mends both', async () => {
    const { keys, k, store, queue } = emptyQueue('unqueued-verify');
    const t = Date.parse('2026-11-30T09:00:00.000Z');
    for (const id of ['m-stranded', 'm-unrecorded']) await enqueuePlumbing(store, id, t);
    expect(await queue.lease(0, 2, 60_000, 'lease-1')).toHaveLength(2);
    await redis.multi().zrem(k.leased, 'm-stranded').hdel(k.leaseOwners, 'm-stranded').exec();
    await redis.hdel(keys.mission('m-unrecorded'), 'rs', 'ea', 'pl', 'sk');

    const verified = await verifyLog(redis, keys);
    expect(verified.ok).toBe(false);
    expect(verified.findings.map(({ kind, missionId, detail }) => ({ kind, missionId, detail }))).toEqual([
      { kind: 'read-model-drift', missionId: 'm-stranded', detail: 'it is queued, but in neither the ready queue nor a lease, so no lease hands it out' },
      {
        kind: 'read-model-drift',
        missionId: 'm-unrecorded',
        detail: "it is leased without its hash's queue fields (rs, ea, pl, sk), so its lease's end leaves it out of the ready queue",
      },
    ]);

    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ switched: 0, effectsMended: 2 });
    expect(await redis.zrange(k.ready, 0, -1)).toEqual(['m-stranded']);
    expect(await redis.zrange(k.leased, 0, -1)).toEqual(['m-unrecorded']);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
    expect(await queue.expireLeases(Date.now() + 120_000)).toBe(1);
    expect(await queue.stats()).toMatchObject({ ready: 2, readyByPriority: { high: 2 }, leased: 0 });
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // A mission's deadline entry lost by hand (or to a sweep that read a drifted hash) while its hash
  // stayed whole: verify compared no deadline entry, and rebuild restored none for a mission it did
  // not switch (nor, through the restore, for a leased one), so the deadline sweep never found it
  // overdue.
  it('given a leased, a ready and an overdue mission that lost their deadline entries, then verify names each, and rebuild writes them back, the lease kept', async () => {
    const { keys, k, store, queue } = emptyQueue('deadline-lost');
    const t = Date.parse('2026-11-30T09:00:00.000Z');
    const deadline = '2026-11-30T12:00:00.000Z';
    for (const id of ['m-leased', 'm-ready', 'm-overdue']) await enqueuePlumbing(store, id, t, { deadline });
    expect((await queue.lease(0, 1, 60_000, 'lease-1')).map(({ mission }) => mission.id)).toEqual(['m-leased']);
    const late = new Date(Date.parse(deadline) + 60_000);
    const overdue = await store.transition('m-overdue', decideOverdue, { actor: 'intake', now: late }, [{ kind: 'overdue', at: late.getTime() }]);
    expect(overdue.kind).toBe('appended');
    const leasedScore = await redis.zscore(k.leased, 'm-leased');
    const overdueScore = await redis.zscore(k.overdue, 'm-overdue');
    expect(overdueScore).not.toBeNull();
    await redis.multi().zrem(k.deadlines, 'm-leased', 'm-ready').zrem(k.overdue, 'm-overdue').exec();

    const verified = await verifyLog(redis, keys);
    expect(verified.findings.map(({ kind, missionId, detail }) => ({ kind, missionId, detail }))).toEqual([
      {
        kind: 'read-model-drift',
        missionId: 'm-leased',
        detail: `it is not watched for its deadline ${deadline} (${k.deadlines}), so the deadline sweep never finds it overdue`,
      },
      {
        kind: 'read-model-drift',
        missionId: 'm-ready',
        detail: `it is not watched for its deadline ${deadline} (${k.deadlines}), so the deadline sweep never finds it overdue`,
      },
      {
        kind: 'read-model-drift',
        missionId: 'm-overdue',
        detail: `it is not among the overdue missions ${k.overdue}, where its MissionOverdue put it`,
      },
    ]);

    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ switched: 0, effectsMended: 0, deadlinesMended: 3 });
    for (const id of ['m-leased', 'm-ready']) expect(await redis.zscore(k.deadlines, id)).toBe(String(Date.parse(deadline)));
    expect(await redis.zscore(k.overdue, 'm-overdue')).toBe(overdueScore);
    expect(await redis.zscore(k.leased, 'm-leased')).toBe(leasedScore);
    expect(await redis.zrange(k.ready, 0, -1)).toEqual(['m-overdue', 'm-ready']);
    expect(await queue.stats()).toMatchObject({ ready: 2, leased: 1, readyByPriority: { high: 2 } });
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ deadlinesMended: 0, readyCountsMended: 0 });
  });

  // Nothing but a finish takes a mission out of deadlines:overdue, and the deadline sweep reads only
  // deadlines:watched: an entry there of a finished mission, or of one never found overdue, stayed
  // for ever, counted in the queue stats' overdue, and verify and rebuild called it the sweep's to drop.
  it('given a cancelled mission and a watched one left in deadlines:overdue, then verify names each, and rebuild takes them out, the watch kept', async () => {
    const { keys, k, store, queue } = emptyQueue('overdue-stale');
    const pipeline = new MissionPipeline(store, queue);
    const t = Date.parse('2026-11-30T09:00:00.000Z');
    const deadline = '2026-11-30T12:00:00.000Z';
    for (const id of ['m-cancelled', 'm-watched']) {
      const now = new Date(t);
      expect((await pipeline.append(id, null, decideCreate(aCreate({ deadline }), now), { actor: 'intake', now })).code).toBe(AppendCode.Ok);
    }
    const cancelled = await pipeline.transition('m-cancelled', (mission) => decideCancel(mission, 'no longer needed'), {
      actor: 'test',
      now: new Date(t + 1000),
    });
    expect(cancelled.kind).toBe('appended');
    await redis.zadd(k.overdue, t + 2000, 'm-cancelled', t + 2000, 'm-watched');
    expect(await queue.stats()).toMatchObject({ overdue: 2 });

    const verified = await verifyLog(redis, keys);
    expect(verified.findings.map(({ kind, missionId, detail }) => ({ kind, missionId, detail }))).toEqual([
      {
        kind: 'read-model-drift',
        missionId: 'm-cancelled',
        detail: `it is among the overdue missions ${k.overdue} (counted in the queue stats' overdue), where its events leave it out: it is cancelled`,
      },
      {
        kind: 'read-model-drift',
        missionId: 'm-watched',
        detail: `it is among the overdue missions ${k.overdue} (counted in the queue stats' overdue), where its events leave it out: no MissionOverdue of its put it there`,
      },
    ]);

    const phases = new Set<string>();
    const rebuilt = await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER, onProgress: ({ phase }) => phases.add(phase) });
    expect(rebuilt).toMatchObject({ switched: 0, effectsMended: 0, deadlinesMended: 2 });
    expect(phases.has('mend deadlines')).toBe(true);
    expect(await redis.zcard(k.overdue)).toBe(0);
    expect(await redis.zrange(k.deadlines, 0, -1, 'WITHSCORES')).toEqual(['m-watched', String(Date.parse(deadline))]);
    expect(await queue.stats()).toMatchObject({ overdue: 0, ready: 1 });
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ deadlinesMended: 0 });
  });

  // Its entry was flagged only at the live version the replay has: with the hash gone, the switch
  // wrote the mission back and the entry stayed for a second rebuild to take out.
  it('given a cancelled mission left in deadlines:overdue whose hash was deleted, then one rebuild writes it back and takes the entry out', async () => {
    const { keys, k, store, queue } = emptyQueue('overdue-stale-no-hash');
    const pipeline = new MissionPipeline(store, queue);
    const t = Date.parse('2026-11-30T09:00:00.000Z');
    const now = new Date(t);
    expect((await pipeline.append('m-gone', null, decideCreate(aCreate({ deadline: '2026-11-30T12:00:00.000Z' }), now), { actor: 'intake', now })).code).toBe(
      AppendCode.Ok,
    );
    const cancelled = await pipeline.transition('m-gone', (mission) => decideCancel(mission, 'no longer needed'), { actor: 'test', now: new Date(t + 1000) });
    expect(cancelled.kind).toBe('appended');
    await redis.zadd(k.overdue, t + 2000, 'm-gone');
    await redis.del(keys.mission('m-gone'));

    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ restored: 1, deadlinesMended: 1 });
    expect(await redis.zcard(k.overdue)).toBe(0);
    expect(await queue.stats()).toMatchObject({ overdue: 0 });
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // A deadline entry or dead letter that differs was pushed before the queue was looked at, and the
  // queue only where nothing else differed: it hid the mission's queue problem from verify (and the
  // dead letter from rebuild's drift script, which mended that alone, leaving the mission unqueued).
  it('given queued missions out of the queue whose deadline entry or dead letter also differs, then verify names both, and one rebuild mends both', async () => {
    const { keys, k, store, queue } = emptyQueue('deadline-and-queue');
    const t = Date.parse('2026-11-30T09:00:00.000Z');
    const deadline = '2026-11-30T12:00:00.000Z';
    await enqueuePlumbing(store, 'm-unwatched', t, { deadline });
    await enqueuePlumbing(store, 'm-dead', t + 1);
    expect((await queue.lease(0, 2, 60_000, 'lease-1')).map(({ mission }) => mission.id).sort()).toEqual(['m-dead', 'm-unwatched']);
    // Stranded, as a lease dropped by hand leaves them.
    for (const id of ['m-unwatched', 'm-dead']) await redis.multi().zrem(k.leased, id).hdel(k.leaseOwners, id).exec();
    await redis.zrem(k.deadlines, 'm-unwatched');
    await redis.zadd(k.deadLetters, t + 5, 'm-dead');

    const stranded = 'it is queued, but in neither the ready queue nor a lease, so no lease hands it out';
    const verified = await verifyLog(redis, keys);
    expect(verified.findings.map(({ missionId, detail }) => ({ missionId, detail }))).toEqual([
      {
        missionId: 'm-unwatched',
        detail: `it is not watched for its deadline ${deadline} (${k.deadlines}), so the deadline sweep never finds it overdue; ${stranded}`,
      },
      { missionId: 'm-dead', detail: `it is in the dead-letter queue, which its events leave it out of; ${stranded}` },
    ]);

    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ switched: 0, effectsMended: 2, deadLettersMended: 1 });
    expect(await redis.zrange(k.ready, 0, -1)).toEqual(['m-unwatched', 'm-dead']);
    expect(await redis.zscore(k.deadlines, 'm-unwatched')).toBe(String(Date.parse(deadline)));
    expect(await redis.zscore(k.deadLetters, 'm-dead')).toBeNull();
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // A leased mission whose hash was deleted loses its deadline entry to the deadline sweep (a mission
  // that no longer exists): rebuild wrote the hash and the queue fields back, the restore leaving
  // everything else of a leased mission alone, so its deadline stayed unwatched.
  it('given a leased mission whose hash was deleted and its deadline entry swept, then rebuild watches its deadline again, the lease kept', async () => {
    const { keys, k, store, queue } = emptyQueue('deadline-leased-lost');
    const t = Date.parse('2026-11-30T09:00:00.000Z');
    const deadline = '2026-11-30T12:00:00.000Z';
    await enqueuePlumbing(store, 'm1', t, { deadline });
    expect((await queue.lease(0, 1, 60_000, 'lease-1')).map(({ mission }) => mission.id)).toEqual(['m1']);
    await redis.del(keys.mission('m1'));
    await redis.zrem(k.deadlines, 'm1');

    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ restored: 1, effectsRestored: 1 });
    expect(await redis.zscore(k.deadlines, 'm1')).toBe(String(Date.parse(deadline)));
    expect(await redis.zscore(k.ready, 'm1')).toBeNull();
    expect(await redis.zcard(k.leased)).toBe(1);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // A skill set's queue named by no count field (ready-by-skills deleted by hand, and the recount
  // writing no field at 0) was never read: a member left there by hand was found by neither.
  it('given a stray in the queue of a skill set no count field names, then verify names it, and rebuild takes it out', async () => {
    const { keys, k, store, queue } = emptyQueue('skill-set-stray');
    const t = Date.parse('2026-11-30T09:00:00.000Z');
    await enqueuePlumbing(store, 'm-plumbing', t);
    await enqueuePlumbing(store, 'm-electrics', t, { requiredSkills: ['electrics'] });
    const electrician = { freeAgents: [{ free: 1, skills: ['electrics'] }] };
    expect((await queue.lease(0, 1, 60_000, 'lease-1', electrician)).map(({ mission }) => mission.id)).toEqual(['m-electrics']);
    expect(await redis.hgetall(k.readyBySkills)).toEqual({ plumbing: '1', electrics: '0' });
    await redis.hdel(k.readyBySkills, 'electrics');
    const strayQueue = k.readyWithSkillsPrefix + 'electrics';
    await redis.zadd(strayQueue, 1, 'm-electrics');

    const verified = await verifyLog(redis, keys);
    expect(verified.findings.map(({ kind, missionId, detail }) => ({ kind, missionId, detail }))).toEqual([
      {
        kind: 'read-model-drift',
        missionId: '',
        detail: `the ready queue of skill set electrics ${strayQueue}, which a lease reads, differs from the ready queue ${k.ready} (its missions' sk): it holds m-electrics, which the ready queue does not hold with those skills`,
      },
    ]);

    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ readyCountsRecounted: true, readyCountsMended: 1 });
    expect(await redis.zcard(strayQueue)).toBe(0);
    expect(await redis.zscore(k.leased, 'm-electrics')).not.toBeNull();
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // A lease held by a mission whose queue fields were lost since (a rebuild of an older version, a
  // hand edit): rebuild did not look at leased missions, so the lease's end left it out of the queue.
  it('given a leased mission whose hash lost its queue fields, then rebuild writes them alone and its lease ends in the ready queue', async () => {
    const { keys } = await knownLog('leased-unrecorded');
    const k = keys.partitions[0];
    const queue = new ReadyQueue(redis, keys, TEST_QUEUE_ORDER);
    const truthful = await redis.hgetall(keys.mission(wait));
    const score = await redis.zscore(k.ready, wait);
    const caller = { freeAgents: [{ free: 2, skills: truthful.sk.split(',') }] };
    expect((await queue.lease(0, 10, 60_000, 'lease-unrecorded', caller)).map(({ mission }) => mission.id)).toEqual([wait]);
    await redis.hdel(keys.mission(wait), 'rs', 'ea', 'pl', 'sk');

    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ switched: 0, effectsMended: 1 });
    expect(await redis.hgetall(keys.mission(wait))).toEqual(truthful);
    expect(await redis.zscore(k.ready, wait)).toBeNull();
    expect(await queue.expireLeases(Date.now() + 120_000)).toBe(1);
    expect(await redis.zscore(k.ready, wait)).toBe(score);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // rebuild left the dead-letter queue and the reasons in the missions' hashes as they were: each stayed wrong.
  it('given dead letters changed by hand, then rebuild writes each again from the log and verify passes', async () => {
    const { keys } = await knownLog('dead-letters');
    const dlq = keys.partitions[0].deadLetters;
    const { dr } = await redis.hgetall(keys.mission(dead));
    const deadLetteredAt = await redis.zscore(dlq, dead);
    expect(dr).toBe('failed 1 of 1 attempts');
    expect(deadLetteredAt).not.toBeNull();
    await redis.hset(keys.mission(dead), 'dr', 'forged');
    await redis.zadd(dlq, 1, ok);
    await redis.hset(keys.mission(wait), 'dr', 'forged');
    expect((await verifyLog(redis, keys)).findings.map((finding) => finding.missionId)).toEqual([ok, dead, wait]);

    expect(await rebuildReadModels(redis, keys)).toMatchObject({ deadLettersMended: 3, switched: 0, unchanged: 2 });
    expect(await redis.hget(keys.mission(dead), 'dr')).toBe(dr);
    expect(await redis.zrange(dlq, 0, -1, 'WITHSCORES')).toEqual([dead, deadLetteredAt]);
    expect(await redis.hexists(keys.mission(wait), 'dr')).toBe(0);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });

    await redis.zrem(dlq, dead);
    expect(await rebuildReadModels(redis, keys)).toMatchObject({ deadLettersMended: 1 });
    expect(await redis.zscore(dlq, dead)).toBe(deadLetteredAt);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // Versions before dr was kept dated a dead letter a few ms before its event: rebuild re-dated each
  // (what GET /api/dlq shows) after an upgrade.
  it('given a dead letter without a reason, dated a few ms before its event, then rebuild leaves it as it is', async () => {
    const { keys } = await knownLog('dead-letter-no-reason');
    const dlq = keys.partitions[0].deadLetters;
    await redis.hdel(keys.mission(dead), 'dr');
    const dated = String(Number(await redis.zscore(dlq, dead)) - 7);
    await redis.zadd(dlq, dated, dead);
    expect(await rebuildReadModels(redis, keys)).toMatchObject({ unchanged: 5, deadLettersMended: 0 });
    expect(await redis.zscore(dlq, dead)).toBe(dated);
  });

  it('given the known log as the pipeline wrote it, then rebuild finds nothing to mend', async () => {
    const { keys } = await knownLog('as-written');
    expect(await rebuildReadModels(redis, keys)).toMatchObject({ unchanged: 5, switched: 0, effectsRestored: 0, effectsMended: 0, deadLettersMended: 0 });
  });

  // The hash came back without rs/ea/pl/sk: a lease left the mission in its skill set's queue and
  // counted, so every later lease handed it out again, and a returned lease queued it at the back.
  it("given a queued and an assigned mission's hashes deleted, then rebuild writes their queue fields again and the queued one is leased once, as before", async () => {
    const { keys, store, queue } = emptyQueue('queued');
    const t = Date.parse('2026-11-30T09:00:00.000Z');
    const waiting = await enqueuePlumbing(store, 'm-waiting', t);
    const taken = await enqueuePlumbing(store, 'm-taken', t - 60_000);
    const [leased] = await queue.lease(0, 1, 60_000, 'lease-1');
    expect(leased.mission.id).toBe(taken.id);
    const assign = decideAssign(taken, 'agent-omar');
    if (assign.kind !== 'append') throw new Error(assign.reason);
    const assigned = await store.append(taken.id, taken, assign.events, { actor: 'orchestrator' }, [{ kind: 'require-lease', leaseId: 'lease-1' }]);
    expect(assigned.code).toBe(AppendCode.Ok);
    const truthful = { waiting: await redis.hgetall(keys.mission(waiting.id)), taken: await redis.hgetall(keys.mission(taken.id)) };
    expect(truthful.waiting).toMatchObject({ rs: String(queue.score(waiting, t)), ea: String(t), pl: 'high', sk: 'plumbing' });
    await redis.del(keys.mission(waiting.id), keys.mission(taken.id));

    const result = await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER });

    expect(result).toMatchObject({ switched: 2, restored: 2, effectsRestored: 2 });
    expect({ waiting: await redis.hgetall(keys.mission(waiting.id)), taken: await redis.hgetall(keys.mission(taken.id)) }).toEqual(truthful);
    const plumber = { freeAgents: [{ free: 2, skills: ['plumbing'] }] };
    expect((await queue.lease(0, 10, 60_000, 'lease-2', plumber)).map(({ mission }) => mission.id)).toEqual([waiting.id]);
    expect(await queue.lease(0, 10, 60_000, 'lease-3', plumber)).toEqual([]);
    expect(await queue.stats()).toMatchObject({ ready: 0, readyByPriority: { high: 0 }, leased: 1 });
    // Its lease runs out: it goes back where it was, not to the back of the queue.
    expect(await queue.expireLeases(Date.now() + 120_000)).toBe(1);
    expect(await redis.zscore(keys.partitions[0].ready, waiting.id)).toBe(String(queue.score(waiting, t)));
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  // The lease passes over a ready mission whose hash holds another type or was deleted (it stays
  // ready and counted), and a lease's return takes such a mission out of the lease without queuing
  // it (what it was queued by went with its hash): the remedy the docs give, (DEL and) rebuild,
  // must queue each once, where its events put it. A deleted one's return queued it at the back,
  // uncounted and in no skill set's queue, and rebuild, finding it ready, did not count it.
  it.each([
    ['replaced by strings', true],
    ['deleted', false],
  ])(
    'given a ready and a leased mission whose hashes were %s, when the operator (deletes them and) rebuilds, then each is queued and counted once, at its old score',
    async (_how, byString) => {
      const { keys, k, store, queue } = emptyQueue(byString ? 'wrong-type' : 'deleted');
      const t = Date.parse('2026-11-30T09:00:00.000Z');
      const wasLeased = await enqueuePlumbing(store, 'm-was-leased', t);
      const [leased] = await queue.lease(0, 1, 60_000, 'lease-1');
      expect(leased.mission.id).toBe(wasLeased.id);
      const stayedReady = await enqueuePlumbing(store, 'm-stayed-ready', t + 1_000);
      const replace = (id: string) =>
        byString ? redis.multi().del(keys.mission(id)).set(keys.mission(id), 'replaced by hand').exec() : redis.del(keys.mission(id));
      await replace(wasLeased.id);
      await replace(stayedReady.id);
      const passedOver: string[] = [];
      const onUnreadable = (error: { missionId: string }) => passedOver.push(error.missionId);
      expect(await queue.lease(0, 10, 60_000, 'lease-2', { onUnreadable })).toEqual([]);
      expect(await queue.expireLeases(Date.now() + 120_000, { onUnreadable })).toBe(0);
      expect(passedOver).toEqual([stayedReady.id, wasLeased.id]);
      expect(await queue.stats()).toMatchObject({ ready: 1, readyByPriority: { high: 1 }, leased: 0 });

      await redis.del(keys.mission(wasLeased.id), keys.mission(stayedReady.id));
      expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ restored: 2, effectsRestored: 2, wrongType: [] });

      expect(await redis.zrange(k.ready, 0, -1, 'WITHSCORES')).toEqual([
        wasLeased.id,
        String(queue.score(wasLeased, t)),
        stayedReady.id,
        String(queue.score(stayedReady, t + 1_000)),
      ]);
      expect(await redis.hgetall(k.readyByLevel)).toEqual({ high: '2' });
      expect(await redis.hgetall(k.readyBySkills)).toEqual({ plumbing: '2' });
      const plumber = { freeAgents: [{ free: 5, skills: ['plumbing'] }] };
      expect((await queue.lease(0, 10, 60_000, 'lease-3', plumber)).map(({ mission }) => mission.id)).toEqual([wasLeased.id, stayedReady.id]);
      expect(await queue.stats()).toMatchObject({ ready: 0, readyByPriority: { high: 0 }, leased: 2 });
      expect(await redis.hgetall(k.readyBySkills)).toEqual({ plumbing: '0' });
      expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
    },
  );

  // A lease read a ready mission without a hash (after the documented DEL, before rebuild) as one
  // with no level, skill set or state: it took it out of the ready queue but not out of its skill
  // set's queue nor the counts, so every later lease took it again; rebuild then skipped it (a
  // lease held it), the next look assigned it, and every look after leased the assigned mission
  // from its skill set's queue and handed it back into the ready queue. So did a whole hash
  // without its queue fields, as a rebuild leaves it between its switch and its restore.
  it('given a queued mission whose hash was deleted and one whose hash lost its queue fields, when the dispatcher looks before and after the rebuild, then each is assigned once and the ready queue is left empty', async () => {
    const { prefix, keys, k, store, queue } = emptyQueue('dispatch');
    const pipeline = new MissionPipeline(store, queue);
    const registry = new AgentRegistry(redis, keys);
    const dispatcher = new Dispatcher(
      registry,
      new AgentSlots(redis, keys),
      store,
      pipeline,
      queue,
      keys,
      loadEnvironment({ KEY_PREFIX: prefix }),
      new DispatchMetrics(new MetricsRegistry('orchestrator')),
      new PinoLogger({ pinoHttp: { level: 'silent' } }),
      redis,
      new ServiceTracer(null),
    );
    const deleted = 'm-hash-deleted';
    const stripped = 'm-queue-fields-lost';
    for (const id of [deleted, stripped]) {
      const created = await pipeline.append(id, null, decideCreate(aCreate({ priority: 'high', requiredSkills: ['plumbing'] })), { actor: 'intake' });
      expect(created.code).toBe(AppendCode.Ok);
    }
    await redis.del(keys.mission(deleted));
    await redis.hdel(keys.mission(stripped), 'rs', 'ea', 'pl', 'sk');
    await registry.register(
      { id: 'agent-pia', name: 'Pia', skills: ['plumbing'], capacity: 5, credits: 100, model: 'mock', systemPrompt: 'You fix taps.' },
      'test',
    );

    await dispatcher.lookForWork();
    expect(await redis.zcard(k.leased)).toBe(0);
    expect(await rebuildReadModels(redis, keys, { queueOrder: TEST_QUEUE_ORDER })).toMatchObject({ restored: 1, effectsRestored: 1, effectsMended: 1 });
    await dispatcher.lookForWork();
    await dispatcher.lookForWork();

    for (const id of [deleted, stripped]) expect(await store.load(id)).toMatchObject({ status: 'assigned', attempts: 1, assignedAgentId: 'agent-pia' });
    expect(await queue.stats()).toMatchObject({ ready: 0, leased: 0, dequeued: 2, readyByPriority: { high: 0 } });
    expect(await redis.hgetall(k.readyBySkills)).toEqual({ plumbing: '0' });
    expect(await redis.zcard(k.readySince)).toBe(0);
    expect(await redis.zcard(k.readyWithSkillsPrefix + 'plumbing')).toBe(0);
    expect(await verifyLog(redis, keys)).toMatchObject({ ok: true, findings: [] });
  });

  it('given an empty prefix, then rebuild has nothing to do', async () => {
    const prefix = testKeyPrefix('audit-rebuild-empty');
    prefixes.push(prefix);
    const result = await rebuildReadModels(redis, new KeyLayout(prefix));
    expect(result).toMatchObject({ events: 0, missions: 0, switched: 0 });
  });
});
