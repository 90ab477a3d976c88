import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Effect, KeyLayout, MISSION_HASH_FIELDS, missionLuaOptions, MissionStore, PartitionKeys, RestoreCode, upcast } from '@app/event-store';
import { evolve, Mission, TERMINAL_STATUSES } from '@app/mission';
import { queueKey, QueueOrderOptions } from '@app/mission-queue';
import { deadlineEffect, deadlinePlaceOf, IN_FLIGHT_ROUTES, restoreMissionEffects, subjectIndexEffects } from '@app/pipeline';
import { execAll, isWrongTypeError, LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { DEFAULT_IMPORT_QUEUE_ORDER, writeSubjectIndexEffect } from './export-import';
import { Finding } from './finding';
import { ChainChecker, logChangedMissions } from './hash-chain';
import { walkChainsAndFold } from './log-walk';
import { noProgress, ProgressListener } from './progress';
import { recountReadyQueue } from './ready-counts';
import { MissionFold, ReplayFold } from './replay-fold';
import { recountStatuses } from './status-counts';
import { parseStored, sha1Hex, toStoredEntry } from './stored-log';
import { ExpectedKeyType, keysOfAnotherType, logOfAnotherType, REDIS_TYPES, WrongTypeKey } from './wrong-type-keys';

export interface RebuildOptions {
  /** Log entries per XRANGE. Default 500 (REBUILD_LOG_BATCH). */
  batchSize?: number;
  /** Missions compared, scratch hashes written, and missions switched, per round trip. Default 1,000. */
  writeBatchSize?: number;
  onProgress?: ProgressListener;
  /** Runs after the comparison and the scratch copies, before the switch (for tests: a mission moving on meanwhile). */
  beforeSwitch?: () => Promise<void>;
  /** Names the scratch keys; random by default. */
  runId?: string;
  /**
   * The ready queue's order of the deployment (PRIORITY_HEADSTART_MS_PER_POINT, DEADLINE_LEAD_MS),
   * by which a restored queued mission is scored as its enqueue scored it. Default
   * DEFAULT_IMPORT_QUEUE_ORDER.
   */
  queueOrder?: QueueOrderOptions;
  /** Broken links explained per partition (ChainCheckerOptions); default 10,000. */
  maxBrokenLinks?: number;
}

export interface RebuildResult {
  runId: string;
  events: number;
  missions: number;
  /** Missions whose live read model (their subjects' sets included) already held the rebuilt state: not written. */
  unchanged: number;
  /** Missions whose live read model (`s`/`st`, index entry or event list) differed and now holds the rebuilt one. */
  switched: number;
  /** Missions without a live mission hash, written whole from the rebuild (counted in `switched` too). */
  restored: number;
  /**
   * Of the switched, the unfinished missions whose places in the ready queue, schedule, deadlines,
   * reviews and dead letters were written again from their events (with the queue fields their
   * hash keeps for the lease and return scripts), as an import writes them: the restored, and those
   * whose hash was there but whose `s`/`st` differed (a sweep that read the drifted state may have
   * dropped an entry of theirs, at the version the switch keeps).
   */
  effectsRestored: number;
  /**
   * Queued missions whose hash was whole but lacked the queue fields its enqueue writes, or that
   * were in neither the ready queue nor a lease (a rebuild interrupted after it wrote their hashes
   * and before it restored their effects): put back in the ready queue from their events, as the
   * restored are. Not counted in `switched` or `unchanged`.
   */
  effectsMended: number;
  /**
   * Missions whose dead letter (their `queue:dlq` entry, which GET /api/dlq lists and dates, and the
   * reason their hash keeps, `dr`) differed from where their events leave them: written again from
   * the log (put back, dated again, its reason written again, or taken out). Not counted in
   * `switched` or `unchanged`.
   */
  deadLettersMended: number;
  /**
   * Missions whose hash was whole but whose deadline entry (`deadlines:watched` at their deadline,
   * or `deadlines:overdue` once found overdue) was not where their events leave them, leased ones
   * included, or that were in `deadlines:overdue` though their events leave them out of it
   * (finished, or never found overdue): written again from the log, the lease kept. Not counted in
   * `switched` or `unchanged`.
   */
  deadlinesMended: number;
  /** Of the switched, missions put back in the mission index (which lists, counts and the recount read). */
  reindexed: number;
  /** Of the switched, missions whose event list (which history and state read) was written again from the log. */
  relisted: number;
  /**
   * Missions put back in the set of a data subject their create names (what an access request and
   * an erasure read), one count per subject and mission.
   */
  subjectsReindexed: number;
  /**
   * Missions taken out of the set of a data subject their create does not name (or of a subject of
   * the partition when the partition's log does not have them), one count per subject and mission:
   * an access request would have handed them to that subject.
   */
  subjectsUnindexed: number;
  /** Missions that moved on (a newer live `v`) while the rebuild ran: left alone. */
  skippedMovedOn: number;
  /** Missions whose live `v` is older than their log: left alone (verify reports them). */
  skippedBehind: number;
  /**
   * Missions whose events cannot be folded, whose last replayed event left the log before the
   * rebuild wrote them, or whose events are in another partition's log: left alone (verify
   * reports them).
   */
  unreplayable: string[];
  /**
   * Missions whose log hash chain breaks (an event of theirs edited, deleted, inserted or moved, as
   * verify names it), and the mission whose last event is the partition log's last when neither
   * the log head nor its `h` names that event (ChainChecker.unanchoredMission: nothing vouches for
   * it, e.g. its hash deleted and that event edited): their read model is left as it is, since it
   * may be the only record of what the log said before, and a replay of the changed log would
   * write the change over it.
   */
  brokenChain: string[];
  /**
   * Keys of missions that hold another Redis type than the services write there (a hash replaced
   * by a string, by hand): left as they are, as evidence and since no replay can read them; their
   * missions are not rebuilt. Deleting such a key (after looking at it) lets the next rebuild write
   * the mission whole from the log. A key of the whole partition (missionId ''; its index, a queue,
   * the status counters) leaves every mission of that partition as it is: each is compared and
   * written through it.
   */
  wrongType: WrongTypeKey[];
  /**
   * True when the status counters hold the statuses of the read model: they already matched the
   * replay and nothing was switched, or they were recounted. False when appends kept changing them
   * during the recount.
   */
  countersRecounted: boolean;
  /**
   * True when the ready queue's counts by level and by skill set (`queue:ready-by-level`,
   * `queue:ready-by-skills`), each skill set's ready queue (`queue:ready-sk:<skills>`) and
   * `queue:ready-since` hold what the ready queue and its missions' queue fields (`pl`, `sk`, `ea`)
   * say: they already did, or what
   * differed was written again (`readyCountsMended`). False when the ready queue kept changing
   * through every attempt (leases and enqueues move it), a ready mission's hash is of another type
   * (verify names it), or the partition was left as it is.
   */
  readyCountsRecounted: boolean;
  /**
   * Count fields of the ready queue written again, and missions put in, taken out of or scored
   * again in a skill set's ready queue or ready-since, from the ready queue as the rebuild left it (a deleted or
   * replaced ready-queue key, or the missions the rebuild put back in the ready queue counted twice).
   */
  readyCountsMended: number;
  eventsPerSecond: number;
  ms: number;
  timings: { replayMs: number; compareMs: number; writeMs: number; switchMs: number; subjectIndexMs: number; recountMs: number };
}

export const FIND_DRIFT_PHASE = 'find drifted missions';
export const WRITE_PHASE = 'write scratch';
export const SWITCH_PHASE = 'switch';
export const SUBJECT_INDEX_PHASE = 'index subjects';
export const MEND_DEAD_LETTERS_PHASE = 'mend dead letters';
export const MEND_DEADLINES_PHASE = 'mend deadlines';

/**
 * Log entries per XRANGE of the replay. Small on purpose: whatever is alive when V8 scavenges its
 * young generation is copied and soon promoted, and while a batch is decoded and folded its entries
 * are. On the bench's 500,000-event log a rebuild promoted ~720 MB at 10,000 entries a batch, ~405 MB
 * at 1,000, ~315 MB at 500 and ~215 MB at 250. The next batch is fetched while this one is folded
 * (~3 ms of work at 500), which hides the round trip; smaller batches would start to expose it.
 */
export const REBUILD_LOG_BATCH = 500;

/** Comparison scripts in flight at once: Redis runs one while this process prepares the next. */
const COMPARE_IN_FLIGHT = 4;

/** Scratch copies outlive a crashed rebuild by at most a day. */
const SCRATCH_TTL_MS = 24 * 60 * 60 * 1000;

/** Result codes of switch-read-model-5.lua. */
enum SwitchCode {
  MovedOn = 0,
  Switched = 1,
  Restored = 2,
  Behind = 3,
  NoScratch = 4,
}

/** What find-drifted-read-models.lua found different, as bits. */
enum Drift {
  State = 1,
  Unindexed = 2,
  EventList = 4,
  /** Missing from the set of a data subject its create names: put back with SADD, no switch. */
  SubjectUnindexed = 8,
  /**
   * Queued, its hash whole, but not queued as its effects queue it (or leased without its queue
   * fields, which its lease's end queues it by): its effects restored, no switch.
   */
  Unqueued = 16,
  /** Its dead letter (queue entry, `dr`) is not where its events leave it: written again, no switch. */
  DeadLetter = 32,
  /** Unfinished, with a deadline, and not on the deadline watch where its events leave it: written again, no switch. */
  Deadline = 64,
  /**
   * In `deadlines:overdue`, which its events leave it out of (finished, or never found overdue):
   * taken out, no switch. Nothing else ever would, and the queue stats count it there.
   */
  StaleOverdue = 128,
}

/** What the scratch copy and the switch repair; the rest is mended beside them. */
const SWITCHED_DRIFT = Drift.State | Drift.Unindexed | Drift.EventList;

/** What switch-read-model-5.lua repaired beside the hash, as bits. */
enum Repaired {
  Indexed = 1,
  Listed = 2,
}

/** The scratch hash's fields beside the mission hash's: the index score, and the event list to write. */
const SCRATCH_FIELDS = { createdAt: 'ca', eventList: 'ev' } as const;

const switchScript = new LuaScript(
  join(__dirname, 'lua'),
  'switch-read-model-5',
  missionLuaOptions({ CODE: luaEnum(SwitchCode), REPAIRED: luaEnum(Repaired), SCRATCH_FIELDS }),
);
const findDriftedScript = new LuaScript(join(__dirname, 'lua'), 'find-drifted-read-models', missionLuaOptions({ DRIFT: luaEnum(Drift) }));

/**
 * Rebuilds every mission's read model from the log without stopping anything:
 * 1. replay the whole log in XRANGE batches (the next one fetched while this one is folded), folding
 *    every mission in memory (in place, keeping its events' log ids but no event text), and check
 *    its hash chains as verify does: a mission whose chain breaks is left alone and named
 *    (`brokenChain`);
 * 2. compare each replayed state with the live read model in Redis (find-drifted-read-models.lua,
 *    by version, status and SHA-1 of `s`, the mission index's entry, the whole event list by SHA-1
 *    of its ids, the sets of the data subjects its create names, its dead letter (queue entry,
 *    score and `dr`), its deadline entry (watched at its deadline, or overdue) when unfinished, and
 *    for a queued mission that is not leased, its hash's queue fields and its place in the ready
 *    queue), so that a read model that is right is not written again;
 * 3. write each drifted mission to a scratch hash (pipelined), so the live read model keeps serving,
 *    with the hash of its last event read back from the log for its `h`, its creation time for the
 *    index, and, for an event list that differs, its log ids;
 * 4. switch each drifted mission with switch-read-model-5.lua, which copies `s`/`st`, puts the
 *    mission back in the index and writes its event list only if the live `v` is still the rebuilt
 *    version (a mission that moved on meanwhile keeps its newer state), keeps the status counters in
 *    step, and deletes the scratch hash;
 *    a mission that had no hash at all is then put back where its events put it (ready queue with its
 *    hash's queue fields, schedule, deadlines, reviews, dead letters), as an import does, and so is a
 *    queued mission whose hash is whole but lacks them (a rebuild interrupted before this step); a
 *    leased one gets all but its place in the ready queue (the lease keeps it), its deadline entry
 *    among them; a dead letter or a deadline entry that differs is written again from the events
 *    (mendPlaces, many at a time), a leased mission's too, and a mission its events leave out of
 *    `deadlines:overdue` taken out of it;
 * 5. put each mission missing from a data subject's set back in it (what access requests and
 *    erasures read), and take out of it each mission whose create does not name the subject;
 * 6. recount the status counters from the live `st` of every mission (when appends let it), unless
 *    nothing was switched and they already count the replayed statuses, and the ready queue's
 *    counts by level and by skill set, each skill set's ready queue and ready-since from the ready
 *    queue and its missions' queue fields, in one pass (ready-counts.ts; only what differs is written).
 */
export async function rebuildReadModels(redis: RedisConnection, keys: KeyLayout, options: RebuildOptions = {}): Promise<RebuildResult> {
  const started = performance.now();
  const runId = options.runId ?? randomBytes(6).toString('hex');
  const results: RebuildResult[] = [];
  for (const partition of keys.partitions) {
    results.push(await rebuildPartition(redis, keys, partition.index, { ...options, runId }));
  }
  const total = (pick: (r: RebuildResult) => number) => results.reduce((sum, r) => sum + pick(r), 0);
  const ms = performance.now() - started;
  return {
    runId,
    events: total((r) => r.events),
    missions: total((r) => r.missions),
    unchanged: total((r) => r.unchanged),
    switched: total((r) => r.switched),
    restored: total((r) => r.restored),
    effectsRestored: total((r) => r.effectsRestored),
    effectsMended: total((r) => r.effectsMended),
    deadLettersMended: total((r) => r.deadLettersMended),
    deadlinesMended: total((r) => r.deadlinesMended),
    skippedMovedOn: total((r) => r.skippedMovedOn),
    skippedBehind: total((r) => r.skippedBehind),
    reindexed: total((r) => r.reindexed),
    relisted: total((r) => r.relisted),
    subjectsReindexed: total((r) => r.subjectsReindexed),
    subjectsUnindexed: total((r) => r.subjectsUnindexed),
    unreplayable: results.flatMap((r) => r.unreplayable),
    brokenChain: results.flatMap((r) => r.brokenChain),
    wrongType: results.flatMap((r) => r.wrongType),
    countersRecounted: results.every((r) => r.countersRecounted),
    readyCountsRecounted: results.every((r) => r.readyCountsRecounted),
    readyCountsMended: total((r) => r.readyCountsMended),
    eventsPerSecond: ms > 0 ? Math.round((total((r) => r.events) / ms) * 1000) : 0,
    ms: Math.round(ms),
    timings: {
      replayMs: total((r) => r.timings.replayMs),
      compareMs: total((r) => r.timings.compareMs),
      writeMs: total((r) => r.timings.writeMs),
      switchMs: total((r) => r.timings.switchMs),
      subjectIndexMs: total((r) => r.timings.subjectIndexMs),
      recountMs: total((r) => r.timings.recountMs),
    },
  };
}

/**
 * Rebuilds the read models of `layout`'s partition `index` (see rebuildReadModels). A mission whose
 * events are in the wrong partition (not the layout's partitionOf) is left alone, not written into
 * this partition's keys.
 */
export async function rebuildPartition(redis: RedisConnection, layout: KeyLayout, index: number, options: RebuildOptions = {}): Promise<RebuildResult> {
  const keys = layout.partitions[index];
  const belongsHere = (missionId: string): boolean => layout.partitionOf(missionId) === index;
  const started = performance.now();
  const onProgress = options.onProgress ?? noProgress;
  const runId = options.runId ?? randomBytes(6).toString('hex');
  const writeBatch = options.writeBatchSize ?? 1_000;
  // A log of another Redis type (changed by hand) has nothing to replay: the partition is left as it is, the key named.
  const log = await logOfAnotherType(redis, keys);
  if (log) return partitionLeftAsItIs(runId, started, [log]);

  // The log ids of each mission's events, to compare its whole event list (not only its length and last entry).
  const fold = new ReplayFold({ keepLogIds: true });
  // The walk hashes each event as verify's does: a replay of a log that was changed would write the
  // change over a read model that may still hold what the log said before.
  const checker = new ChainChecker({ maxBrokenLinks: options.maxBrokenLinks });
  const batchSize = options.batchSize ?? REBUILD_LOG_BATCH;
  const walk = await walkChainsAndFold(redis, keys, checker, fold, onProgress, batchSize);
  const broken = brokenChains(await checker.findings(redis, keys, walk.position, { batchSize, onProgress }), checker.unanchoredMission);
  const replayed = performance.now();

  const rebuilt: MissionFold[] = [];
  const unreplayable: string[] = [];
  const brokenChain: string[] = [];
  for (const mission of fold.values()) {
    if (broken === 'all' || broken.has(mission.missionId)) brokenChain.push(mission.missionId);
    else if (mission.state && !mission.failure && belongsHere(mission.missionId)) rebuilt.push(mission);
    else unreplayable.push(mission.missionId);
  }

  // Every mission of the partition is compared and written through these keys: one of another type
  // (changed by hand) would fail them all, so the partition is left as it is and the key named.
  const skillSets = fold.skillSets();
  const partitionWrongType = await keysOfAnotherType(redis, [...partitionWideKeys(keys), ...(await skillSetQueues(redis, keys, skillSets))]);
  if (partitionWrongType.length > 0) {
    return partitionLeftAsItIs(runId, started, partitionWrongType, {
      events: walk.events,
      missions: fold.missions,
      unreplayable,
      brokenChain,
      replayMs: Math.round(replayed - started),
    });
  }

  const { drifted: found, wrongType } = await findDrifted(redis, keys, rebuilt, writeBatch, onProgress);
  // A subject's set needs no scratch copy or switch (a create only ever adds to it), nor does a
  // queued mission whose hash is whole but whose effects are missing (restoreMissionEffects checks
  // its version itself).
  const drifted = found.filter((entry) => entry.drift & SWITCHED_DRIFT);
  const unqueued = found.filter((entry) => entry.drift & Drift.Unqueued).map(({ mission }) => mission.missionId);
  const misfiled = found.filter((entry) => entry.drift & Drift.DeadLetter);
  // A switched or unqueued one has its deadline entry written with the rest of its effects; no effect
  // of its events takes it out of the overdue, where it stays (StaleOverdue) unless mended here.
  const unwatched = found.filter(
    (entry) => (entry.drift & Drift.Deadline && !(entry.drift & (SWITCHED_DRIFT | Drift.Unqueued))) || entry.drift & Drift.StaleOverdue,
  );
  const compared = performance.now();

  const result = { switched: 0, restored: 0, effectsRestored: 0, effectsMended: 0, reindexed: 0, relisted: 0, skippedMovedOn: 0, skippedBehind: 0 };
  const written: DriftedMission[] = [];
  const restoredIds: string[] = [];
  const switchedUnfinishedIds: string[] = [];
  let writtenAt = compared;
  try {
    for (let offset = 0; offset < drifted.length; offset += writeBatch) {
      const batch = drifted.slice(offset, offset + writeBatch);
      const hashes = await lastEventHashes(redis, keys, batch);
      const pipeline = redis.pipeline();
      batch.forEach((entry, i) => {
        const { mission, state } = entry;
        const lastEventHash = hashes[i];
        if (lastEventHash === undefined) {
          // Its last replayed event left the log while the rebuild ran: verify's to report, not ours to write.
          unreplayable.push(mission.missionId);
          return;
        }
        const key = keys.rebuildScratch(runId, mission.missionId);
        const eventList = entry.drift & Drift.EventList ? mission.logIds : undefined;
        pipeline.hset(key, {
          [MISSION_HASH_FIELDS.version]: String(state.version),
          [MISSION_HASH_FIELDS.status]: state.status,
          [MISSION_HASH_FIELDS.state]: JSON.stringify(state),
          [MISSION_HASH_FIELDS.lastEventHash]: lastEventHash,
          [SCRATCH_FIELDS.createdAt]: String(Date.parse(state.createdAt) || 0),
          ...(eventList ? { [SCRATCH_FIELDS.eventList]: eventList.join(',') } : {}),
        });
        pipeline.pexpire(key, SCRATCH_TTL_MS);
        written.push(entry);
      });
      await execAll(pipeline);
      onProgress({ phase: WRITE_PHASE, done: Math.min(offset + writeBatch, drifted.length), total: drifted.length });
    }
    writtenAt = performance.now();

    await options.beforeSwitch?.();

    const switchOne = async ({ mission, state }: DriftedMission): Promise<void> => {
      const [code, , repaired] = (await switchScript.run(
        redis,
        [
          keys.mission(mission.missionId),
          keys.rebuildScratch(runId, mission.missionId),
          keys.statusCounts,
          keys.missionIndex,
          keys.missionEvents(mission.missionId),
        ],
        [mission.missionId],
      )) as [number, string, number];
      if (repaired & Repaired.Indexed) result.reindexed++;
      if (repaired & Repaired.Listed) result.relisted++;
      if (code === SwitchCode.Switched) {
        result.switched++;
        if (!TERMINAL_STATUSES.includes(state.status)) switchedUnfinishedIds.push(mission.missionId);
      } else if (code === SwitchCode.Restored) {
        result.switched++;
        result.restored++;
        restoredIds.push(mission.missionId);
      } else if (code === SwitchCode.MovedOn) result.skippedMovedOn++;
      else if (code === SwitchCode.Behind) result.skippedBehind++;
    };
    await inBatches(written, writeBatch, switchOne, (done) => onProgress({ phase: SWITCH_PHASE, done, total: written.length }));
  } catch (error) {
    await deleteScratch(redis, keys, runId, written).catch(() => undefined);
    throw error;
  }
  // A lost hash took with it the queue fields (rs, ea, pl, sk) the lease and return scripts move a
  // queued mission by: without them a lease leaves it in its skill set's queue and counted (leased
  // again and again), and a returned lease queues it at the back. They come back as an import writes
  // them: the append's own effects, replayed from the events (idempotent on the memberships that
  // survived), at the version just switched in. A rebuild interrupted before this step leaves whole
  // hashes without them, which the next run finds as Unqueued and mends the same way.
  const order = options.queueOrder ?? DEFAULT_IMPORT_QUEUE_ORDER;
  const store = new MissionStore(redis, layout);
  const restoreEffects = async (missionIds: string[]): Promise<number> =>
    missionIds.length === 0
      ? 0
      : (
          await restoreMissionEffects(redis, store, missionIds, {
            queueScore: (mission, enqueuedAt) => queueKey(mission, enqueuedAt, order),
          })
        ).restored;
  // A mission switched at its live version, its hash there, is put back too when unfinished: a
  // sweep that read its drifted `s` (a status it does not have, say) dropped its timed entry, at the
  // version the switch keeps, so nothing else writes that entry again (the effects' adds are
  // idempotent on what is still in place).
  result.effectsRestored = await restoreEffects([...restoredIds, ...switchedUnfinishedIds]);
  const restoredNow = new Set(switchedUnfinishedIds);
  result.effectsMended = await restoreEffects(unqueued.filter((missionId) => !restoredNow.has(missionId)));
  const deadLettersMended = await mendPlaces(
    store,
    misfiled,
    writeBatch,
    (done) => onProgress({ phase: MEND_DEAD_LETTERS_PHASE, done, total: misfiled.length }),
    ({ mission }) => [
      mission.deadLetter ? { kind: 'dead-letter', at: mission.deadLetter.at, reason: mission.deadLetter.reason } : { kind: 'leave-dead-letters' },
    ],
  );
  // Off the watch and the overdue (the finish's effect), then back where its events leave it, in one script.
  const deadlinesMended = await mendPlaces(
    store,
    unwatched,
    writeBatch,
    (done) => onProgress({ phase: MEND_DEADLINES_PHASE, done, total: unwatched.length }),
    ({ state }) => {
      const place = deadlinePlaceOf(state);
      return [{ kind: 'leave-deadlines' }, ...(place ? [deadlineEffect(place)] : [])];
    },
  );
  const switchedAt = performance.now();
  const subjectsReindexed = await indexSubjects(
    redis,
    keys,
    found.filter((entry) => entry.drift & Drift.SubjectUnindexed),
    writeBatch,
    onProgress,
  );
  const subjectsUnindexed = await unindexStrays(redis, keys, fold, writeBatch, onProgress);
  const subjectsIndexedAt = performance.now();

  const countersHold = drifted.length === 0 && sameCounts(await redis.hgetall(keys.statusCounts), fold.statusCounts());
  const recounted = countersHold || (await recountStatuses(redis, keys)).recounted;
  // From the ready queue as this rebuild leaves it: the missions it put back were counted again if they had been counted.
  const ready = await recountReadyQueue(redis, keys, skillSets);
  const finished = performance.now();
  const ms = finished - started;
  return {
    runId,
    events: walk.events,
    missions: fold.missions,
    unchanged: rebuilt.length - found.length - new Set(wrongType.map((key) => key.missionId)).size,
    ...result,
    deadLettersMended,
    deadlinesMended,
    subjectsReindexed,
    subjectsUnindexed,
    unreplayable,
    brokenChain,
    // A ready mission's hash of another type stops the ready queue's recount: named too, once.
    wrongType: [...wrongType, ...ready.wrongType.filter((entry) => !wrongType.some((known) => known.key === entry.key))],
    countersRecounted: recounted,
    readyCountsRecounted: ready.settled,
    readyCountsMended: ready.mended,
    eventsPerSecond: ms > 0 ? Math.round((walk.events / ms) * 1000) : 0,
    ms: Math.round(ms),
    timings: {
      replayMs: Math.round(replayed - started),
      compareMs: Math.round(compared - replayed),
      writeMs: Math.round(writtenAt - compared),
      switchMs: Math.round(switchedAt - writtenAt),
      subjectIndexMs: Math.round(subjectsIndexedAt - switchedAt),
      recountMs: Math.round(finished - subjectsIndexedAt),
    },
  };
}

/**
 * A partition rebuild left as it is for its keys of another type (`wrongType`), after the walk
 * when there was one to make.
 */
function partitionLeftAsItIs(
  runId: string,
  started: number,
  wrongType: WrongTypeKey[],
  walked: Pick<RebuildResult, 'events' | 'missions' | 'unreplayable' | 'brokenChain'> & { replayMs: number } = {
    events: 0,
    missions: 0,
    unreplayable: [],
    brokenChain: [],
    replayMs: 0,
  },
): RebuildResult {
  const ms = performance.now() - started;
  const { replayMs, ...counted } = walked;
  return {
    runId,
    ...counted,
    unchanged: 0,
    switched: 0,
    restored: 0,
    effectsRestored: 0,
    effectsMended: 0,
    reindexed: 0,
    relisted: 0,
    skippedMovedOn: 0,
    skippedBehind: 0,
    deadLettersMended: 0,
    deadlinesMended: 0,
    subjectsReindexed: 0,
    subjectsUnindexed: 0,
    wrongType,
    countersRecounted: false,
    readyCountsRecounted: false,
    readyCountsMended: 0,
    eventsPerSecond: ms > 0 ? Math.round((walked.events / ms) * 1000) : 0,
    ms: Math.round(ms),
    timings: { replayMs, compareMs: 0, writeMs: 0, switchMs: 0, subjectIndexMs: 0, recountMs: 0 },
  };
}

/**
 * The missions whose log events the chain findings name (logChangedMissions); 'all' when one names
 * no mission (an entry without one, or too many breaks to explain).
 */
function brokenChains(findings: Finding[], unanchored: string | null): Set<string> | 'all' {
  const named = logChangedMissions(findings, unanchored);
  return named.includes('') ? 'all' : new Set(named);
}

interface DriftedMission {
  mission: MissionFold;
  /** The replayed state (the mission folded without failure). */
  state: Mission;
  /** What differs (Drift bits). */
  drift: number;
}

/**
 * The rebuilt missions whose live read model differs: one script call per `batchSize` missions,
 * COMPARE_IN_FLIGHT of them at a time, so that each batch's state JSON is dropped as soon as it is
 * hashed instead of all of them being held at once (a drifted mission's JSON is made again when it
 * is written: drift is the exception).
 */
async function findDrifted(
  redis: RedisConnection,
  keys: PartitionKeys,
  rebuilt: MissionFold[],
  batchSize: number,
  onProgress: ProgressListener,
): Promise<{ drifted: DriftedMission[]; wrongType: WrongTypeKey[] }> {
  /** Per batch, in the order of the missions' first events (lanes finish out of order). */
  const drifted: DriftedMission[][] = [];
  const wrongType: WrongTypeKey[] = [];
  let done = 0;
  const compareBatch = async (offset: number): Promise<void> => {
    const batch = rebuilt.slice(offset, offset + batchSize);
    drifted[offset / batchSize] = await findDriftedIn(batch).catch(async (error: unknown) => {
      // A key of another type fails the batch's script: those missions are named and left as they are, the others compared.
      const wrong = isWrongTypeError(error) ? await wrongTypeKeysOf(redis, keys, batch) : [];
      if (wrong.length === 0) throw error;
      wrongType.push(...wrong);
      return findDriftedIn(batch.filter((mission) => !wrong.some((key) => key.missionId === mission.missionId)));
    });
    done += batch.length;
    onProgress({ phase: FIND_DRIFT_PHASE, done, total: rebuilt.length });
  };
  const findDriftedIn = async (batch: MissionFold[]): Promise<DriftedMission[]> => {
    if (batch.length === 0) return [];
    const states = batch.map((mission) => mission.state as Mission);
    const missionKeys = [keys.missionIndex, keys.ready, keys.leased, keys.deadLetters, keys.deadlines, keys.overdue];
    const args: string[] = [];
    batch.forEach((mission, i) => {
      const state = states[i];
      const subjects = state.subjects ?? [];
      const deadline = deadlinePlaceOf(state);
      missionKeys.push(keys.mission(mission.missionId), keys.missionEvents(mission.missionId), ...subjects.map((subject) => keys.subjectMissions(subject)));
      args.push(
        mission.missionId,
        String(state.version),
        state.status,
        sha1Hex(JSON.stringify(state)),
        sha1Hex((mission.logIds ?? []).join(',')),
        String(subjects.length),
        mission.deadLetter ? String(mission.deadLetter.at) : '',
        mission.deadLetter?.reason ?? '',
        deadline?.set ?? '',
        deadline ? String(deadline.at) : '',
      );
    });
    const found = (await findDriftedScript.run(redis, missionKeys, args)) as number[];
    const batchDrifted: DriftedMission[] = [];
    for (let i = 0; i < found.length; i += 2) batchDrifted.push({ mission: batch[found[i] - 1], state: states[found[i] - 1], drift: found[i + 1] });
    return batchDrifted;
  };
  if (rebuilt.length === 0) return { drifted: [], wrongType };
  // The first call loads the script for the rest.
  await compareBatch(0);
  let next = batchSize;
  const lane = async (): Promise<void> => {
    for (let offset = next; offset < rebuilt.length; offset = next) {
      next += batchSize;
      await compareBatch(offset);
    }
  };
  await Promise.all(Array.from({ length: COMPARE_IN_FLIGHT }, lane));
  return { drifted: drifted.flat(), wrongType };
}

/**
 * The keys of `batch`'s missions (hash, event list, subject sets) that hold another Redis type than
 * the services write there: asked only after a batch's script met one (WRONGTYPE), so a sound read
 * model costs nothing more. A key that does not exist is no such key.
 */
async function wrongTypeKeysOf(redis: RedisConnection, keys: PartitionKeys, batch: readonly MissionFold[]): Promise<WrongTypeKey[]> {
  return keysOfAnotherType(
    redis,
    batch.flatMap((mission): WrongTypeKey[] => [
      { missionId: mission.missionId, key: keys.mission(mission.missionId), expected: 'hash' },
      { missionId: mission.missionId, key: keys.missionEvents(mission.missionId), expected: 'list' },
      ...(mission.state?.subjects ?? []).map((subject) => ({ missionId: mission.missionId, key: keys.subjectMissions(subject), expected: 'set' as const })),
    ]),
  );
}

/**
 * The keys of the partition as a whole that rebuild reads or writes (the drift script, the switch,
 * the recount, the dead letters it mends and the effects it restores), each with the type the
 * services write there.
 */
function partitionWideKeys(keys: PartitionKeys): WrongTypeKey[] {
  const expected: [string, ExpectedKeyType][] = [
    // Every append reads it: with it of another type nothing of the partition moves, and what it vouched for is lost.
    [keys.logHead, 'string'],
    [keys.missionIndex, 'sorted set'],
    [keys.statusCounts, 'hash'],
    [keys.ready, 'sorted set'],
    [keys.readySince, 'sorted set'],
    [keys.readyByLevel, 'hash'],
    [keys.readyBySkills, 'hash'],
    [keys.perMinute, 'hash'],
    [keys.leased, 'sorted set'],
    [keys.leaseOwners, 'hash'],
    [keys.deadLetters, 'sorted set'],
    [keys.awaitingReview, 'sorted set'],
    [keys.reviewDeadlines, 'sorted set'],
    [keys.scheduled('delayed'), 'sorted set'],
    [keys.scheduled('retry'), 'sorted set'],
    [keys.deadlines, 'sorted set'],
    [keys.overdue, 'sorted set'],
    // The streams an import's restore writes the messages of missions in flight to.
    ...IN_FLIGHT_ROUTES.map((route): [string, ExpectedKeyType] => [keys.stream(route), 'stream']),
  ];
  return expected.map(([key, type]) => ({ missionId: '', key, expected: type }));
}

/**
 * The ready queue of each skill set (`<partition>queue:ready-sk:<skills>`), which the effects rebuild
 * restores write with the ready queue, and the recount reads: the fields of ready-by-skills name
 * them, and `known`, the skill sets of the log's missions. Only `known` when ready-by-skills itself
 * is of another type, which partitionWideKeys names.
 */
async function skillSetQueues(redis: RedisConnection, keys: PartitionKeys, known: Iterable<string>): Promise<WrongTypeKey[]> {
  const counted = (await redis.type(keys.readyBySkills)) === REDIS_TYPES.hash ? await redis.hkeys(keys.readyBySkills) : [];
  return [...new Set([...counted, ...known])].map((skills) => ({ missionId: '', key: keys.readyWithSkillsPrefix + skills, expected: 'sorted set' }));
}

/**
 * Writes a place of each of `entries` again from its events, through the append's own effects for it
 * (`effectsOf`, applied in order in one script) and MissionStore.restoreEffects, each only while the
 * mission is still at the replayed version: a dead letter (find-drifted-read-models.lua's
 * DeadLetter) into the dead-letter queue at the time its MissionDeadLettered has, with its reason in
 * `dr`, or out of it; a deadline entry (Deadline, StaleOverdue) off the watch and the overdue, then
 * into the watched deadlines at its deadline, or among the overdue, or neither once finished. None
 * touches the ready queue or the leases, so a leased mission is written too, its lease kept. In
 * batches (inBatches: one at a time, 10,000 lost deadline entries took ~3 s). Returns how many
 * were written.
 */
async function mendPlaces(
  store: MissionStore,
  entries: DriftedMission[],
  batchSize: number,
  onProgress: (done: number) => void,
  effectsOf: (entry: DriftedMission) => Effect[],
): Promise<number> {
  let mended = 0;
  const mendOne = async (entry: DriftedMission): Promise<void> => {
    const effects = effectsOf(entry).map((effect) => ({ effect, mission: entry.state }));
    const code = await store.restoreEffects(entry.mission.missionId, entry.state.version, effects);
    if (code === RestoreCode.Restored || code === RestoreCode.Leased) mended++;
  };
  await inBatches(entries, batchSize, mendOne, onProgress);
  return mended;
}

/**
 * Runs `each` for every one of `items`: the first alone, as it loads the script the rest run, then
 * `batchSize` at a time without waiting for each other; `onDone` told how many are done after each.
 */
async function inBatches<T>(items: readonly T[], batchSize: number, each: (item: T) => Promise<void>, onDone: (done: number) => void): Promise<void> {
  if (items.length === 0) return;
  await each(items[0]);
  onDone(1);
  for (let offset = 1; offset < items.length; offset += batchSize) {
    await Promise.all(items.slice(offset, offset + batchSize).map(each));
    onDone(Math.min(offset + batchSize, items.length));
  }
}

/**
 * Puts each mission found missing from a data subject's set back in the sets its events' effects
 * write (index-subject, from subjectIndexEffects of @app/pipeline, the rule `replay import` writes
 * them by, so the two cannot disagree), its events read back from the log by their ids: SADD,
 * pipelined, `batchSize` missions a round trip. Safe on a live system, as a set only ever gains a
 * mission (the create's append adds it, nothing removes it), so there is no version to compare.
 * Returns how many memberships were missing.
 */
async function indexSubjects(
  redis: RedisConnection,
  keys: PartitionKeys,
  missing: DriftedMission[],
  batchSize: number,
  onProgress: ProgressListener,
): Promise<number> {
  let added = 0;
  for (let offset = 0; offset < missing.length; offset += batchSize) {
    const batch = missing.slice(offset, offset + batchSize);
    const read = redis.pipeline();
    for (const { mission } of batch) for (const logId of mission.logIds ?? []) read.xrange(keys.log, logId, logId);
    const entries = (await execAll(read)) as [string, string[]][][];
    const write = redis.pipeline();
    let at = 0;
    for (const { mission } of batch) {
      let state: Mission | null = null;
      for (const [found] of entries.slice(at, (at += mission.logIds?.length ?? 0))) {
        // The replay folded these events; one that left the log since has nothing to add.
        const stored = found ? parseStored(toStoredEntry(found[0], found[1]).json) : null;
        if (!stored) continue;
        const event = upcast(stored);
        const next = evolve(state, event);
        for (const effect of subjectIndexEffects(event, state, next)) {
          // Retention's sets are not compared by the drift check; only the subjects' sets are mended here.
          if (effect.kind === 'index-subject') writeSubjectIndexEffect(write, keys, mission.missionId, effect);
        }
        state = next;
      }
    }
    for (const reply of await execAll(write)) added += reply as number;
    onProgress({ phase: SUBJECT_INDEX_PHASE, done: Math.min(offset + batchSize, missing.length), total: missing.length });
  }
  return added;
}

export const SUBJECT_STRAYS_PHASE = 'unindex strays';

/**
 * Takes out of each set of a data subject a mission of the partition names every member whose create
 * does not name the subject: the set as the replay would write it, plus the missions created since
 * (a subject's set is read by access requests, so a stray member hands another guest's data out).
 * SMEMBERS and SREM pipelined, `batchSize` subjects a round trip. A member the replay knows is
 * judged by its replayed subjects, which never change after the create; one it does not know (a
 * mission created since, or none of this partition) by its live `s`, read before the SREM and again
 * after it: a create that landed in between is put back (the create writes `s` and the set in one
 * script, so it is never lost). Members the replay could not fold are left alone (verify reports
 * them). Returns how many memberships were removed.
 */
async function unindexStrays(redis: RedisConnection, keys: PartitionKeys, fold: ReplayFold, batchSize: number, onProgress: ProgressListener): Promise<number> {
  const named = new Set<string>();
  for (const mission of fold.values()) for (const subject of mission.state?.subjects ?? []) named.add(subject);
  const subjects = [...named];
  const namesSubject = (json: string | null, subject: string): boolean => {
    try {
      return json !== null && (JSON.parse(json) as Partial<Mission>).subjects?.includes(subject) === true;
    } catch {
      return false;
    }
  };
  let removed = 0;
  for (let offset = 0; offset < subjects.length; offset += batchSize) {
    const batch = subjects.slice(offset, offset + batchSize);
    const read = redis.pipeline();
    for (const subject of batch) read.smembers(keys.subjectMissions(subject));
    const members = (await execAll(read)) as string[][];
    const strays: { subject: string; missionId: string }[] = [];
    const unknown: { subject: string; missionId: string }[] = [];
    batch.forEach((subject, i) => {
      for (const missionId of members[i]) {
        const mission = fold.get(missionId);
        if (!mission) unknown.push({ subject, missionId });
        else if (mission.state && !mission.failure && !mission.state.subjects?.includes(subject)) strays.push({ subject, missionId });
      }
    });
    const liveStates = async (entries: { missionId: string }[]): Promise<(string | null)[]> => {
      const pipeline = redis.pipeline();
      for (const { missionId } of entries) pipeline.hget(keys.mission(missionId), MISSION_HASH_FIELDS.state);
      return (await execAll(pipeline)) as (string | null)[];
    };
    const before = await liveStates(unknown);
    const unknownStrays = unknown.filter(({ subject }, i) => !namesSubject(before[i], subject));
    const remove = redis.pipeline();
    for (const { subject, missionId } of [...strays, ...unknownStrays]) remove.srem(keys.subjectMissions(subject), missionId);
    removed += ((await execAll(remove)) as number[]).reduce((sum, n) => sum + n, 0);
    const after = await liveStates(unknownStrays);
    const putBack = redis.pipeline();
    unknownStrays.forEach(({ subject, missionId }, i) => {
      if (namesSubject(after[i], subject)) putBack.sadd(keys.subjectMissions(subject), missionId);
    });
    removed -= ((await execAll(putBack)) as number[]).reduce((sum, n) => sum + n, 0);
    onProgress({ phase: SUBJECT_STRAYS_PHASE, done: Math.min(offset + batchSize, subjects.length), total: subjects.length });
  }
  return removed;
}

/**
 * SHA-1 of each mission's last replayed event (the `h` its scratch copy carries), read back from the
 * log by id, one pipeline for all: the replay keeps no event text (see ReplayFoldOptions).
 * Undefined for a mission whose entry is gone.
 */
async function lastEventHashes(redis: RedisConnection, keys: PartitionKeys, missions: DriftedMission[]): Promise<(string | undefined)[]> {
  const pipeline = redis.pipeline();
  for (const { mission } of missions) pipeline.xrange(keys.log, mission.lastLogId, mission.lastLogId);
  return (await execAll(pipeline)).map((reply) => {
    const [found] = reply as [string, string[]][];
    return found ? sha1Hex(toStoredEntry(found[0], found[1]).json) : undefined;
  });
}

/** The live counters against the replayed statuses; counters at 0 count as absent. */
function sameCounts(live: Record<string, string>, replayed: Map<string, number>): boolean {
  const nonZero = Object.entries(live).filter(([, n]) => Number(n) !== 0);
  return nonZero.length === replayed.size && nonZero.every(([status, n]) => replayed.get(status) === Number(n));
}

async function deleteScratch(redis: RedisConnection, keys: PartitionKeys, runId: string, missions: DriftedMission[]): Promise<void> {
  for (let offset = 0; offset < missions.length; offset += 1_000) {
    await redis.unlink(...missions.slice(offset, offset + 1_000).map(({ mission }) => keys.rebuildScratch(runId, mission.missionId)));
  }
}
