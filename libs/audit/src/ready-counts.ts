import { join } from 'node:path';
import { ChainableCommander } from 'ioredis';
import { MISSION_HASH_FIELDS, missionLuaOptions, PartitionKeys } from '@app/event-store';
import { execAll, execAllKeepingWrongType, LuaScript, RedisConnection, WRONG_TYPE_REPLY } from '@app/redis';
import { WATCH_ATTEMPTS } from './watch-attempts';
import { keysOfAnotherType, WrongTypeKey } from './wrong-type-keys';

/**
 * The ready queue's counts, ready-since times and per-skill-set queues, against the ready queue they count.
 *
 * A ready mission is in the ready zset, counted under its priority level (`queue:ready-by-level`)
 * and its skill set (`queue:ready-by-skills`), in its skill set's own ready zset
 * (`queue:ready-sk:<skills>`) with its score in the ready zset, as its hash's queue fields `pl` and
 * `sk` record, and in the ready-since zset (`queue:ready-since`) at the time it was queued, its
 * hash's `ea` (ready-membership.lua). Every script that moves a mission in or out of the ready zset
 * moves it in or out of the others at once; a key deleted or replaced by hand, and a rebuild that
 * then put the queued missions back in the ready zset (counting each again), leave them apart. A
 * count too high sends the lease to a skill set's queue in vain, one too low (or a mission missing
 * from its skill set's queue) leaves a ready mission no lease hands out, and the queue stats show them;
 * ready-since gives the oldest ready mission's age (the queue stats' `oldestAt`,
 * `brain_queue_oldest_ready_age_seconds` and its backlog alert): a mission it holds that is not ready
 * ages there for ever, one it lacks is never the oldest.
 */

/** Ready missions read (their hashes' queue fields, their place in their skill set's queue and in ready-since) per script call: a few ms of Redis's time. */
const READY_BATCH = 2_000;
/** Missions written or removed per ZADD or ZREM of a skill set's queue or ready-since. */
const MEMBER_BATCH = 1_000;
/** Missions one difference names; the rest are counted. */
const NAMED = 5;

/** A key of the ready queue's counts or skill-set queues that differs from the ready zset, and how. */
export interface ReadyCountsDifference {
  key: string;
  detail: string;
}

export interface ReadyCountsResult {
  /**
   * True when the comparison (and, for a recount, its writes) held for one moment of the ready
   * queue. False when the queue kept changing through every attempt (a busy system: leases and
   * enqueues move it), or a key of another type stopped it (`wrongType`): nothing was compared then.
   */
  settled: boolean;
  /** The keys that differ from the ready zset; for a recount, as they were before it wrote them. */
  differences: ReadyCountsDifference[];
  /** A recount's writes: count fields written again, and missions added to, removed from or scored again in a skill set's queue. */
  mended: number;
  /** The keys of another Redis type met: the ready zset, a count, a skill set's queue, a ready mission's hash. */
  wrongType: WrongTypeKey[];
}

/** A ready mission a zset (a skill set's queue, ready-since) does not hold at its score: its id, that score, the score it holds ('' none). */
type Misplaced = [id: string, score: string, held: string];

/** What one pass over the ready queue found. */
interface ReadyRead {
  /** The counts as stored, by level and by skill set. */
  levels: Record<string, string>;
  skills: Record<string, string>;
  /** What they must be: the ready missions by the level and the skill set their hashes record. */
  expectedLevels: Map<string, number>;
  expectedSkills: Map<string, number>;
  /** Per skill set, the ready missions its queue does not hold with their ready score. */
  misplaced: Map<string, Misplaced[]>;
  /** Per skill set, the missions its queue holds that are not ready with those skills. */
  strays: Map<string, string[]>;
  /** The ready missions ready-since lacks or times otherwise than their hash, the score theirs: their hash's `ea` ('' none). */
  untimed: Misplaced[];
  /** The missions ready-since holds that are not ready. */
  sinceStrays: string[];
  /** Ready missions whose hash records no level, no skill set: counted nowhere. */
  unleveled: string[];
  unskilled: string[];
  wrongType: WrongTypeKey[];
}

/** A count field to write: its key, field and value. */
type CountWrite = [key: string, field: string, value: number];
/** A skill set's queue to mend: missions to write with their scores, and missions to take out. */
interface QueueMend {
  key: string;
  add: [score: string, id: string][];
  remove: string[];
}

interface Comparison {
  differences: ReadyCountsDifference[];
  counts: CountWrite[];
  queues: QueueMend[];
}

/** read-ready-queue-2.lua's reply for one batch. */
type BatchReply = [
  read: number,
  levels: (string | number)[],
  skills: (string | number)[],
  misplaced: string[],
  unleveled: string[],
  unskilled: string[],
  wrongType: string[],
  untimed: string[],
];

const readScript = new LuaScript(join(__dirname, 'lua'), 'read-ready-queue-2', missionLuaOptions());

/**
 * Compares the ready queue's counts, ready-since times and skill-set queues with the ready zset and
 * its missions' queue fields (verify). `skillSets`: the skill sets of the partition's missions (its
 * log's), whose queues are looked at whether or not a count field names them.
 */
export function checkReadyCounts(redis: RedisConnection, keys: PartitionKeys, skillSets: Iterable<string> = []): Promise<ReadyCountsResult> {
  return settleReadyCounts(redis, keys, false, skillSets);
}

/**
 * Writes again whatever of the ready queue's counts, ready-since times and skill-set queues differs
 * from the ready zset and its missions' queue fields (rebuild): only the fields and members that
 * differ, so a sound queue is not written.
 */
export function recountReadyQueue(redis: RedisConnection, keys: PartitionKeys, skillSets: Iterable<string> = []): Promise<ReadyCountsResult> {
  return settleReadyCounts(redis, keys, true, skillSets);
}

/**
 * One pass over the ready zset (read-ready-queue-2.lua, READY_BATCH missions a call, each read and
 * counted in Redis), then a ZCARD of ready-since and of each skill set's queue, under WATCH of the
 * ready zset, ready-since and the counts on a connection of its own; then a MULTI, with the writes
 * when `write`, that fails when any of them changed meanwhile, and the pass starts over. Every
 * script that changes a count or a skill set's queue changes the ready zset with it, and writes a
 * mission's queue fields as it enters the ready zset, so those keys need no WATCH of their own.
 * ready-since is watched: queued again at the score it has, a ready mission is timed anew there
 * while the ready zset stays as it was (ready-membership.lua's insertIntoReady).
 */
async function settleReadyCounts(redis: RedisConnection, keys: PartitionKeys, write: boolean, skillSets: Iterable<string>): Promise<ReadyCountsResult> {
  const known = [...skillSets];
  const connection = redis.duplicate();
  connection.on('error', () => undefined);
  try {
    for (let attempt = 0; attempt < WATCH_ATTEMPTS; attempt++) {
      await connection.watch(keys.ready, keys.readySince, keys.readyByLevel, keys.readyBySkills);
      const read = await readReadyQueue(connection, keys, known);
      if (read.wrongType.length > 0) {
        await connection.unwatch();
        return { settled: false, differences: [], mended: 0, wrongType: read.wrongType };
      }
      const comparison = compare(keys, read, Date.now());
      // One keyed read always: on a Redis Cluster a MULTI of no keyed command (a check, or a recount
      // with nothing to write) goes to any master, where EXEC, watching nothing, always succeeds.
      // With it, EXEC goes to the ready queue's master and fails if a watched key changed, so the
      // read was of one moment.
      const multi = connection.multi().exists(keys.ready);
      const mended = write ? queueMends(multi, comparison) : 0;
      const replies = await multi.exec();
      if (replies) {
        for (const [error] of replies) if (error) throw error;
        return { settled: true, differences: comparison.differences, mended, wrongType: [] };
      }
    }
    return { settled: false, differences: [], mended: 0, wrongType: [] };
  } finally {
    await connection.quit().catch(() => connection.disconnect());
  }
}

async function readReadyQueue(connection: RedisConnection, keys: PartitionKeys, known: readonly string[]): Promise<ReadyRead> {
  const read: ReadyRead = {
    levels: {},
    skills: {},
    expectedLevels: new Map(),
    expectedSkills: new Map(),
    misplaced: new Map(),
    strays: new Map(),
    untimed: [],
    sinceStrays: [],
    unleveled: [],
    unskilled: [],
    wrongType: await keysOfAnotherType(connection, [
      { missionId: '', key: keys.ready, expected: 'sorted set' },
      { missionId: '', key: keys.readySince, expected: 'sorted set' },
      { missionId: '', key: keys.readyByLevel, expected: 'hash' },
      { missionId: '', key: keys.readyBySkills, expected: 'hash' },
    ]),
  };
  if (read.wrongType.length > 0) return read;
  [read.levels, read.skills] = (await execAll(connection.pipeline().hgetall(keys.readyByLevel).hgetall(keys.readyBySkills))) as Record<string, string>[];

  const tally = (into: Map<string, number>, counts: (string | number)[]): void => {
    for (let i = 0; i < counts.length; i += 2) into.set(String(counts[i]), (into.get(String(counts[i])) ?? 0) + Number(counts[i + 1]));
  };
  let ready = 0;
  for (let start = 0; ; start += READY_BATCH) {
    const [count, levels, skills, misplaced, unleveled, unskilled, wrongType, untimed] = (await readScript.run(
      connection,
      [keys.ready, keys.readySince],
      [String(start), String(start + READY_BATCH - 1), keys.missionPrefix, keys.readyWithSkillsPrefix],
    )) as BatchReply;
    ready += count;
    tally(read.expectedLevels, levels);
    tally(read.expectedSkills, skills);
    for (let i = 0; i < misplaced.length; i += 4) {
      const [id, skillSet, score, held] = misplaced.slice(i, i + 4);
      const ofSkillSet = read.misplaced.get(skillSet) ?? [];
      read.misplaced.set(skillSet, ofSkillSet);
      ofSkillSet.push([id, score, held]);
    }
    for (let i = 0; i < untimed.length; i += 3) read.untimed.push([untimed[i], untimed[i + 1], untimed[i + 2]]);
    read.unleveled.push(...unleveled);
    read.unskilled.push(...unskilled);
    // Its own finding names it (compareReadModel); what it was counted under cannot be told.
    read.wrongType.push(...wrongType.map((id): WrongTypeKey => ({ missionId: id, key: keys.mission(id), expected: 'hash' })));
    if (count < READY_BATCH) break;
  }

  // A skill set's queue that holds more than the ready missions it holds holds strays: only then are they looked for.
  // Its queue is known by a count field, a ready mission, or a mission of the log with that skill set
  // (a count field can be lost by hand while its queue stays): a queue of a skill set none of them names
  // no lease reads until a mission with it is queued, whose log event names it to the next look.
  const skillSets = [...new Set([...Object.keys(read.skills), ...read.expectedSkills.keys(), ...known])];
  const sizes = connection.pipeline();
  for (const skillSet of skillSets) sizes.zcard(keys.readyWithSkillsPrefix + skillSet);
  const held = skillSets.length > 0 ? await execAllKeepingWrongType(sizes) : [];
  const crowded = skillSets.filter((skillSet, i) => {
    if (held[i] === WRONG_TYPE_REPLY) {
      read.wrongType.push({ missionId: '', key: keys.readyWithSkillsPrefix + skillSet, expected: 'sorted set' });
      return false;
    }
    const missing = (read.misplaced.get(skillSet) ?? []).filter(([, , score]) => score === '').length;
    return (held[i] as number) > (read.expectedSkills.get(skillSet) ?? 0) - missing;
  });
  if (read.wrongType.length > 0) return read;
  for (const skillSet of crowded) read.strays.set(skillSet, await straysOf(connection, keys, keys.readyWithSkillsPrefix + skillSet, skillSet));
  // Likewise ready-since: holding more than the ready missions it holds, it holds missions that are not ready.
  const timed = ready - read.untimed.filter(([, , held]) => held === '').length;
  if ((await connection.zcard(keys.readySince)) > timed) read.sinceStrays = await straysOf(connection, keys, keys.readySince);
  return read;
}

/**
 * The missions `queue` (a skill set's queue, or ready-since) holds that are not ready (not in the
 * ready zset) or, given the queue's `skillSet`, whose hash records another skill set: read only for
 * a queue that holds more than its ready missions, which a sound queue never does.
 */
async function straysOf(connection: RedisConnection, keys: PartitionKeys, queue: string, skillSet?: string): Promise<string[]> {
  const members = await connection.zrange(queue, 0, -1);
  const pipeline = connection.pipeline();
  for (const id of members) pipeline.zscore(keys.ready, id).hget(keys.mission(id), MISSION_HASH_FIELDS.skillSet);
  const replies = members.length > 0 ? await execAllKeepingWrongType(pipeline) : [];
  return members.filter((_, i) => replies[2 * i] === null || (skillSet !== undefined && replies[2 * i + 1] !== skillSet));
}

/** The counts, skill-set queues and ready-since times the ready missions make, against those read; `now` times a ready mission whose hash records no time. */
function compare(keys: PartitionKeys, read: ReadyRead, now: number): Comparison {
  const comparison: Comparison = { differences: [], counts: [], queues: [] };
  const source = (field: string) => `the ready queue ${keys.ready} (its missions' ${field})`;
  // A ready mission whose hash lost a queue field is counted nowhere: the scripts can no longer uncount it where it was counted.
  const without = (ids: readonly string[], name: string): string => (ids.length > 0 ? ` (ready without a ${name}, so counted nowhere: ${named(ids)})` : '');
  compareCounts(comparison, keys.readyByLevel, read.levels, read.expectedLevels, {
    what: `the ready missions per priority level ${keys.readyByLevel} differ from ${source('pl')}`,
    note: without(read.unleveled, 'pl'),
  });
  compareCounts(comparison, keys.readyBySkills, read.skills, read.expectedSkills, {
    what: `the ready missions per skill set ${keys.readyBySkills}, by which a lease picks the queues it reads, differ from ${source('sk')}`,
    note: without(read.unskilled, 'sk'),
  });
  for (const skillSet of [...new Set([...read.misplaced.keys(), ...read.strays.keys()])].sort()) {
    const key = keys.readyWithSkillsPrefix + skillSet;
    compareQueue(comparison, key, read.misplaced.get(skillSet) ?? [], read.strays.get(skillSet) ?? [], {
      what: `the ready queue of skill set ${skillSet} ${key}, which a lease reads, differs from ${source('sk')}`,
      stray: 'which the ready queue does not hold with those skills',
      rescored: ['it scores', (id, held, score) => `${id} ${held}, the ready queue ${score}`],
    });
  }
  // A ready mission whose hash records no time is put in at the recount's, as a returned lease puts it back (ready-membership.lua).
  const untimed = read.untimed.map(([id, enqueuedAt, held]): Misplaced => [id, enqueuedAt || String(now), held]);
  compareQueue(comparison, keys.readySince, untimed, read.sinceStrays, {
    what: `the ready-since times ${keys.readySince}, by which the queue stats and brain_queue_oldest_ready_age_seconds tell the oldest ready mission's age, differ from ${source('ea')}`,
    stray: 'which the ready queue does not hold',
    rescored: ['it times', (id, held, score) => `${id} at ${held}, its ea ${score}`],
  });
  return comparison;
}

/**
 * A zset that holds each ready mission at a score the ready queue says (a skill set's queue,
 * ready-since) against `misplaced`, the ready missions it lacks ('' held) or holds at another
 * score, and `strays`, the missions it must not hold: the difference said as `what` differs, and
 * the writes that mend it.
 */
function compareQueue(
  comparison: Comparison,
  key: string,
  misplaced: readonly Misplaced[],
  strays: string[],
  said: { what: string; stray: string; rescored: [verb: string, each: (id: string, held: string, score: string) => string] },
): void {
  if (misplaced.length === 0 && strays.length === 0) return;
  const missing = misplaced.filter(([, , held]) => held === '').map(([id]) => id);
  const [verb, each] = said.rescored;
  const rescored = misplaced.filter(([, , held]) => held !== '').map(([id, score, held]) => each(id, held, score));
  const problems = [
    ...(missing.length > 0 ? [`it lacks ${named(missing)}`] : []),
    ...(strays.length > 0 ? [`it holds ${named(strays)}, ${said.stray}`] : []),
    ...(rescored.length > 0 ? [`${verb} ${named(rescored)}`] : []),
  ];
  comparison.differences.push({ key, detail: `${said.what}: ${problems.join('; ')}` });
  comparison.queues.push({ key, add: misplaced.map(([id, score]) => [score, id]), remove: strays });
}

/**
 * Each field of `live` that is not the count `expected` has (fields at 0 count as absent), said as
 * `what` differs, `note` after.
 */
function compareCounts(
  comparison: Comparison,
  key: string,
  live: Record<string, string>,
  expected: Map<string, number>,
  { what, note }: { what: string; note: string },
): void {
  const fields = [...new Set([...Object.keys(live), ...expected.keys()])].sort();
  const wrong = fields.filter((field) => Number(live[field] ?? 0) !== (expected.get(field) ?? 0));
  if (wrong.length === 0) return;
  const said = wrong.map((field) => `${field} is ${live[field] ?? 0}, the ready queue holds ${expected.get(field) ?? 0}`);
  comparison.differences.push({ key, detail: `${what}: ${said.join('; ')}${note}` });
  for (const field of wrong) comparison.counts.push([key, field, expected.get(field) ?? 0]);
}

/** The first NAMED of `items`, and how many more. */
function named(items: readonly string[]): string {
  const more = items.length > NAMED ? ` and ${items.length - NAMED} more` : '';
  return `${items.slice(0, NAMED).join(', ')}${more}`;
}

/** Queues the writes that make the counts, the skill sets' queues and ready-since what the ready zset says; returns how many. */
function queueMends(multi: ChainableCommander, { counts, queues }: Comparison): number {
  let mended = 0;
  for (const [key, field, value] of counts) {
    multi.hset(key, field, value);
    mended += 1;
  }
  for (const { key, add, remove } of queues) {
    for (let at = 0; at < remove.length; at += MEMBER_BATCH) multi.zrem(key, ...remove.slice(at, at + MEMBER_BATCH));
    for (let at = 0; at < add.length; at += MEMBER_BATCH) multi.zadd(key, ...add.slice(at, at + MEMBER_BATCH).flat());
    mended += add.length + remove.length;
  }
  return mended;
}
