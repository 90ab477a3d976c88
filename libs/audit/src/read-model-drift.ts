import { ChainableCommander } from 'ioredis';
import { MISSION_HASH_FIELDS, PartitionKeys } from '@app/event-store';
import { canonicalJson, Mission, TERMINAL_STATUSES } from '@app/mission';
import { deadlinePlaceOf, type DeadLetterPlace, type DeadlinePlace } from '@app/pipeline';
import { RedisConnection, WRONG_TYPE_REPLY } from '@app/redis';
import { Finding } from './finding';
import { LogFollower, readAtHead } from './log-snapshot';
import { noProgress, ProgressListener } from './progress';
import { ReplayFold } from './replay-fold';
import { wrongTypeDetail } from './wrong-type-keys';

export const COMPARE_PHASE = 'compare read model';
/** Missions compared per MULTI. */
const COMPARE_BATCH = 2_000;
/**
 * Rounds over the missions the catch-ups added and those whose read ran ahead of the walk, after
 * the first pass: on a log that never stands still each round meets a few more.
 */
const RECHECK_ROUNDS = 3;

/** What verify could not compare, and why: not a finding. */
export interface NotChecked {
  /** '' for the status counters. */
  missionId: string;
  detail: string;
}

export interface ReadModelComparison {
  findings: Finding[];
  notChecked: NotChecked[];
}

const CHANGING = 'changing while verify ran: its read model could not be read in step with the log';
const CREATED = 'created while verify ran, after its last comparison';

/**
 * Compares the live read model with a replay of the log: each mission's `s` must be exactly
 * JSON.stringify of its folded state and `st` its status, each mission must be in the index and in
 * the set of each data subject its create names (what access requests and erasures read), no
 * subject's set may name a mission whose create does not name the subject, each mission's dead
 * letter (its `queue:dlq` entry and score, and `dr`) and its deadline entries (`deadlines:watched`,
 * `deadlines:overdue`) must be where its events leave it, and the
 * status counters must count the replayed statuses. Reads are made at the replay's head (catching up with
 * appends), in pipelined batches. One finding per drifted mission.
 *
 * On a log that keeps moving through every catch-up (readAtHead's `moving`), a read is newer than
 * the walk; a mission whose live `v` is past its replayed version is then compared again later,
 * with the missions the catch-ups added, for up to RECHECK_ROUNDS rounds, and what is still
 * changing after them is returned as not checked rather than reported as drift (so a busy, healthy
 * system gives no false alarm). So are the status counters when their read was newer.
 */
export async function compareReadModel(
  redis: RedisConnection,
  keys: PartitionKeys,
  fold: ReplayFold,
  follower: LogFollower,
  onProgress: ProgressListener = noProgress,
): Promise<ReadModelComparison> {
  const findings: Finding[] = [];
  const notChecked: NotChecked[] = [];
  /** Compares a batch of missions at the walk's head; resolves with those that changed past it. */
  const compareBatch = async (batch: readonly string[]): Promise<string[]> => {
    // Taken once: the catch-ups between rounds must not change how many replies a mission has.
    const shapes = batch.map((id) => readShapeOf(fold, id));
    const { replies, moving } = await readAtHead(redis, keys.logHead, follower, (multi) => {
      batch.forEach((id, i) => queueLiveReads(multi, keys, id, shapes[i]));
    });
    const changing: string[] = [];
    let at = 0;
    batch.forEach((missionId, i) => {
      const count = repliesOf(shapes[i]);
      const mine = replies.slice(at, at + count);
      at += count;
      // A key of another type has nothing to compare: it is named, once, and the mission is not compared.
      const wrong = wrongTypeKeys(keys, missionId, shapes[i], mine);
      if (wrong.length > 0) {
        for (const finding of wrong) if (!findings.some((known) => known.kind === 'wrong-type' && known.detail === finding.detail)) findings.push(finding);
        return;
      }
      const live = liveMission(mine, shapes[i]);
      // An append writes a mission's events, hash, list and sets at once: with the live v at the
      // replayed version the mission's read is in step with the walk even when the log moved on.
      if (moving && Number(live.v ?? 0) > (fold.get(missionId)?.lastVersion ?? 0)) changing.push(missionId);
      else {
        const drift = describeDrift(keys, fold, missionId, live);
        if (drift) findings.push(drift);
      }
    });
    return changing;
  };
  const compareAll = async (ids: readonly string[], progress: boolean): Promise<string[]> => {
    const changing: string[] = [];
    for (let offset = 0; offset < ids.length; offset += COMPARE_BATCH) {
      changing.push(...(await compareBatch(ids.slice(offset, offset + COMPARE_BATCH))));
      if (progress) onProgress({ phase: COMPARE_PHASE, done: Math.min(offset + COMPARE_BATCH, ids.length), total: ids.length });
    }
    return changing;
  };

  const ids = [...fold.values()].map((m) => m.missionId);
  let pending = await compareAll(ids, true);
  // Missions the catch-ups added while comparing, and those read ahead of the walk.
  const seen = new Set(ids);
  const unseen = (): string[] => {
    const added = [...fold.values()].map((m) => m.missionId).filter((id) => !seen.has(id));
    for (const id of added) seen.add(id);
    return added;
  };
  for (let round = 0; round < RECHECK_ROUNDS; round++) {
    const again = [...pending, ...unseen()];
    if (again.length === 0) break;
    pending = await compareAll(again, false);
  }
  for (const missionId of pending) notChecked.push({ missionId, detail: CHANGING });
  for (const missionId of unseen()) notChecked.push({ missionId, detail: CREATED });

  for (const [missionId, subjects] of await strayMembers(redis, keys, fold, follower, onProgress)) {
    const mission = fold.get(missionId);
    const problems = subjects.map((subject) =>
      mission
        ? `the subject index of ${subject} (read by access requests and erasures) names the mission, whose create does not name ${subject}`
        : `the subject index of ${subject} (read by access requests and erasures) names ${missionId}, a mission this partition's log does not have`,
    );
    const drifted = findings.find((finding) => finding.kind === 'read-model-drift' && finding.missionId === missionId);
    if (drifted) drifted.detail += `; ${problems.join('; ')}`;
    else {
      const version = mission?.state?.version;
      findings.push({ kind: 'read-model-drift', missionId, logId: mission?.lastLogId ?? '', ...(version ? { version } : {}), detail: problems.join('; ') });
    }
  }

  const { replies, moving } = await readAtHead(redis, keys.logHead, follower, (multi) => {
    multi.hgetall(keys.statusCounts);
  });
  if (moving) notChecked.push({ missionId: '', detail: `status counters: ${CHANGING}` });
  else if (replies[0] === WRONG_TYPE_REPLY) findings.push({ kind: 'wrong-type', missionId: '', logId: '', detail: wrongTypeDetail(keys.statusCounts, 'hash') });
  // A mission that cannot be folded, or whose hash cannot be read, has no status to count: its own finding says why.
  else if ([...fold.values()].every((m) => !m.failure) && !findings.some((finding) => finding.kind === 'wrong-type')) {
    const live = replies[0] as Record<string, string>;
    const expected = fold.statusCounts();
    const statuses = new Set([...Object.keys(live), ...expected.keys()]);
    const wrong = [...statuses]
      .sort()
      .filter((status) => Number(live[status] ?? 0) !== (expected.get(status) ?? 0))
      .map((status) => `${status} is ${live[status] ?? 0}, the log says ${expected.get(status) ?? 0}`);
    if (wrong.length > 0) findings.push({ kind: 'read-model-drift', missionId: '', logId: '', detail: `status counters: ${wrong.join('; ')}` });
  }
  return { findings, notChecked };
}

export const SUBJECT_SETS_PHASE = 'compare subject sets';
/** Subject sets read per MULTI. */
const SUBJECT_BATCH = 1_000;

/**
 * The members of the partition's subject sets whose create does not name the subject (or that the
 * partition's log does not have), by mission: an access request would hand them to the subject.
 * The reverse of the SISMEMBER per mission and subject: the set of every subject a mission of the
 * partition names is read whole (SMEMBERS, at the walk's head, SUBJECT_BATCH sets a MULTI), so the
 * cost is one read per subject and one reply per member, about that of the SISMEMBERs. A set of a
 * subject that no mission of the partition names is not read: finding it would take a SCAN of the
 * whole keyspace. Missions that cannot be folded are left out: verify reports them as unreplayable.
 */
async function strayMembers(
  redis: RedisConnection,
  keys: PartitionKeys,
  fold: ReplayFold,
  follower: LogFollower,
  onProgress: ProgressListener,
): Promise<Map<string, string[]>> {
  const named = new Set<string>();
  for (const mission of fold.values()) for (const subject of mission.state?.subjects ?? []) named.add(subject);
  const subjects = [...named];
  const stray = new Map<string, string[]>();
  for (let offset = 0; offset < subjects.length; offset += SUBJECT_BATCH) {
    const batch = subjects.slice(offset, offset + SUBJECT_BATCH);
    const { replies, moving } = await readAtHead(redis, keys.logHead, follower, (multi) => {
      for (const subject of batch) multi.smembers(keys.subjectMissions(subject));
    });
    batch.forEach((subject, i) => {
      // A set of another type: named by its missions' reads (wrong-type).
      if (replies[i] === WRONG_TYPE_REPLY) return;
      for (const missionId of (replies[i] as string[]).sort()) {
        const mission = fold.get(missionId);
        // A set read ahead of the walk may name a mission created since: the walk cannot judge it.
        if ((!mission && moving) || mission?.failure || mission?.state?.subjects?.includes(subject)) continue;
        stray.set(missionId, [...(stray.get(missionId) ?? []), subject]);
      }
    });
    onProgress({ phase: SUBJECT_SETS_PHASE, done: Math.min(offset + SUBJECT_BATCH, subjects.length), total: subjects.length });
  }
  return stray;
}

/** What the read model holds of one mission: its hash's `s` and `st`, whether the index has it, its event list, and the subject sets it is missing from. */
interface LiveMission {
  /** The hash's `v`: the version of the last event the read model holds. */
  v: string | null;
  s: string | null;
  st: string | null;
  indexed: boolean;
  listed: readonly string[];
  /** The mission's subjects whose set (what an access request or an erasure reads) does not name it. */
  unindexedSubjects: readonly string[];
  /** Its score in the dead-letter queue, and the dead-letter reason its hash keeps (`dr`). */
  deadLetter: { score: string | null; reason: string | null };
  /**
   * For a mission replayed as queued: whether it is in the ready zset, whether a lease holds it,
   * and whether its hash records the skill set (`sk`, written with its other queue fields).
   */
  queue?: { ready: boolean; leased: boolean; recorded: boolean };
  /** Its score among the overdue (`deadlines:overdue`, what the queue stats' `overdue` counts; null: not there), read for every mission. */
  overdue: string | null;
  /** For a mission its events leave on the deadline watch: its score in the watched deadlines (null: not there). */
  deadline?: { watched: string | null };
}

/**
 * What is read of one mission beside its hash, index entry, event list, dead letter and overdue entry: the sets of
 * the data subjects its create names, its place in the ready queue or a lease when it is replayed as
 * `queued`, and its deadline entries when its events leave it on the deadline watch.
 */
interface ReadShape {
  subjects: readonly string[];
  queued: boolean;
  deadline: DeadlinePlace | undefined;
}

function readShapeOf(fold: ReplayFold, missionId: string): ReadShape {
  const state = fold.get(missionId)?.state;
  return { subjects: state?.subjects ?? [], queued: state?.status === 'queued', deadline: state ? deadlinePlaceOf(state) : undefined };
}

/** How many replies queueLiveReads asks for. */
function repliesOf({ subjects, queued, deadline }: ReadShape): number {
  return LIVE_READS + subjects.length + (queued ? QUEUE_READS : 0) + (deadline ? DEADLINE_READS : 0);
}

/**
 * The wrong-type findings of a mission's live reads (queueLiveReads' replies): each key Redis
 * refused a read of for its type, named with the type the services write there. A key of the
 * whole partition (the index, the dead letters) is no one mission's.
 */
function wrongTypeKeys(keys: PartitionKeys, missionId: string, { subjects, queued, deadline }: ReadShape, replies: readonly unknown[]): Finding[] {
  const read: [string, string, boolean][] = [
    [keys.mission(missionId), 'hash', true],
    [keys.missionIndex, 'sorted set', false],
    [keys.missionEvents(missionId), 'list', true],
    [keys.deadLetters, 'sorted set', false],
    [keys.overdue, 'sorted set', false],
    ...subjects.map((subject): [string, string, boolean] => [keys.subjectMissions(subject), 'set', false]),
    ...(queued ? [[keys.ready, 'sorted set', false] as [string, string, boolean], [keys.leased, 'sorted set', false] as [string, string, boolean]] : []),
    ...(deadline ? [[keys.deadlines, 'sorted set', false] as [string, string, boolean]] : []),
  ];
  return read.flatMap(([key, type, own], i) =>
    replies[i] === WRONG_TYPE_REPLY ? [{ kind: 'wrong-type' as const, missionId: own ? missionId : '', logId: '', detail: wrongTypeDetail(key, type) }] : [],
  );
}

/** Replies queueLiveReads asks for beside one per subject and, for a queued mission, QUEUE_READS. */
const LIVE_READS = 5;
/** Replies for a mission replayed as queued: its place in the ready zset and in the leases. */
const QUEUE_READS = 2;
/** Replies for a mission its events leave on the deadline watch: its place among the watched deadlines. */
const DEADLINE_READS = 1;

/**
 * The reads of one mission's read model, in the order liveMission takes their replies; for a
 * mission replayed as `queued`, also where it is queued: in the ready zset or leased; for one its
 * events leave on the deadline watch, its entries there.
 */
function queueLiveReads(multi: ChainableCommander, keys: PartitionKeys, missionId: string, { subjects, queued, deadline }: ReadShape): void {
  multi.hmget(
    keys.mission(missionId),
    MISSION_HASH_FIELDS.state,
    MISSION_HASH_FIELDS.status,
    MISSION_HASH_FIELDS.version,
    MISSION_HASH_FIELDS.deadLetterReason,
    MISSION_HASH_FIELDS.skillSet,
  );
  multi.zscore(keys.missionIndex, missionId);
  multi.lrange(keys.missionEvents(missionId), 0, -1);
  multi.zscore(keys.deadLetters, missionId);
  // Of every mission: one its events leave off the overdue (finished, or never found overdue) must not be counted there.
  multi.zscore(keys.overdue, missionId);
  for (const subject of subjects) multi.sismember(keys.subjectMissions(subject), missionId);
  if (queued) multi.zscore(keys.ready, missionId).zscore(keys.leased, missionId);
  if (deadline) multi.zscore(keys.deadlines, missionId);
}

function liveMission(replies: readonly unknown[], { subjects, queued, deadline }: ReadShape): LiveMission {
  const [s, st, v, dr, sk] = replies[0] as [string | null, string | null, string | null, string | null, string | null];
  const queueAt = LIVE_READS + subjects.length;
  const deadlineAt = queueAt + (queued ? QUEUE_READS : 0);
  return {
    v,
    s,
    st,
    indexed: replies[1] !== null,
    listed: replies[2] as string[],
    unindexedSubjects: subjects.filter((_, i) => replies[LIVE_READS + i] === 0),
    deadLetter: { score: replies[3] as string | null, reason: dr },
    overdue: replies[4] as string | null,
    ...(queued ? { queue: { ready: replies[queueAt] !== null, leased: replies[queueAt + 1] !== null, recorded: sk !== null } } : {}),
    ...(deadline ? { deadline: { watched: replies[deadlineAt] as string | null } } : {}),
  };
}

function describeDrift(
  keys: PartitionKeys,
  fold: ReplayFold,
  missionId: string,
  { v, s, st, indexed, listed, unindexedSubjects, deadLetter, queue, overdue, deadline }: LiveMission,
): Finding | undefined {
  const mission = fold.get(missionId);
  if (!mission) return undefined;
  const listProblem = mission.logIds ? eventListProblem(listed, mission.logIds) : undefined;
  if (mission.failure) {
    const at = mission.failure.version !== undefined ? `v${mission.failure.version} ` : '';
    return {
      kind: 'unreplayable',
      missionId,
      logId: mission.failure.logId,
      ...(mission.failure.version !== undefined ? { version: mission.failure.version } : {}),
      detail: `its events cannot be folded: event ${at}(${mission.failure.logId}): ${mission.failure.error}`,
    };
  }
  const state = mission.state;
  if (!state) return undefined;
  const problems: string[] = [];
  const stateDiffers = stateProblem(s, state);
  if (stateDiffers) problems.push(stateDiffers);
  if (st !== state.status) problems.push(`st is ${st ?? '(missing)'}, the replay says ${state.status}`);
  if (!indexed) problems.push('the mission is not in the mission index');
  if (listProblem) problems.push(listProblem);
  // What rebuild's switch writes again, restoring the mission's effects with it.
  const switched = problems.length > 0;
  for (const subject of unindexedSubjects) problems.push(`the subject index of ${subject} (read by access requests and erasures) does not name the mission`);
  problems.push(...deadLetterProblems(mission.deadLetter, deadLetter));
  // At the replayed version: a mission that moved on may have been found overdue (or finished) since.
  if (v === String(state.version)) problems.push(...deadlineProblems(keys, state, deadlinePlaceOf(state), { watched: deadline?.watched ?? null, overdue }));
  // Not beside a state drift, index or event-list drift: rebuild's switch restores the effects with those.
  // A dead letter or deadline entry that differs is mended beside it, so it hides no queue problem.
  if (!switched && queue && state.status === 'queued' && v === String(state.version)) problems.push(...queueProblems(queue));
  if (problems.length === 0) return undefined;
  return { kind: 'read-model-drift', missionId, logId: mission.lastLogId, version: state.version, detail: problems.join('; ') };
}

/**
 * How a mission's read model `s` (what the API and the console show) differs from its state as
 * folded from its events, which it must be exactly the JSON.stringify of; undefined when it is.
 */
export function stateProblem(s: string | null, state: Mission): string | undefined {
  if (s === null) return 'the mission has no read model (s)';
  if (s === JSON.stringify(state)) return undefined;
  const fields = differingFields(s, state);
  if (fields === null) return 's is not the JSON of an object';
  if (fields.length > 0) return `s differs from the replayed state in ${fields.join(', ')}`;
  return canonicalJson(JSON.parse(s)) !== canonicalJson(state) ? 's differs from the replayed state' : undefined;
}

/**
 * Where a queued mission is missing from the ready queue, as rebuild's Unqueued finds it: in neither
 * the ready zset nor a lease, no lease hands it out; leased without its queue fields (rs, ea, pl,
 * sk), its lease's end leaves it out of the ready queue. Every script that takes a queued mission
 * out of one puts it in the other at once. A ready one without them is the ready counts' finding.
 */
function queueProblems({ ready, leased, recorded }: NonNullable<LiveMission['queue']>): string[] {
  if (!ready && !leased) return ['it is queued, but in neither the ready queue nor a lease, so no lease hands it out'];
  if (leased && !recorded) return ["it is leased without its hash's queue fields (rs, ea, pl, sk), so its lease's end leaves it out of the ready queue"];
  return [];
}

/**
 * How the mission's deadline entries differ from where its events leave it (`place`): watched (the
 * deadline sweep reads `deadlines:watched` by score) at its deadline, or, once found overdue, in
 * `deadlines:overdue` (what the queue stats' `overdue` counts), and in `deadlines:overdue` only then:
 * nothing but a finish takes a mission out of it, so an entry of a finished mission, or of one never
 * found overdue, stays there, counted, for ever. A stale watched entry (a finished mission's, or one
 * found overdue) is no drift: the deadline sweep, once it is due, finds nothing to do for it and
 * drops it (DueMissionsWalk's stale entries), and nothing counts it meanwhile.
 */
function deadlineProblems(
  keys: PartitionKeys,
  state: Mission,
  place: DeadlinePlace | undefined,
  live: { watched: string | null; overdue: string | null },
): string[] {
  if (place?.set === 'overdue') return live.overdue === null ? [`it is not among the overdue missions ${keys.overdue}, where its MissionOverdue put it`] : [];
  const problems: string[] = [];
  if (live.overdue !== null) {
    const why = place ? 'no MissionOverdue of its put it there' : TERMINAL_STATUSES.includes(state.status) ? `it is ${state.status}` : 'it has no deadline';
    problems.push(`it is among the overdue missions ${keys.overdue} (counted in the queue stats' overdue), where its events leave it out: ${why}`);
  }
  if (!place) return problems;
  const deadline = state.deadline ?? '';
  if (live.watched === null) problems.push(`it is not watched for its deadline ${deadline} (${keys.deadlines}), so the deadline sweep never finds it overdue`);
  else if (Number(live.watched) !== place.at)
    problems.push(`it is watched for its deadline at ${isoOrRaw(Number(live.watched), live.watched)} (${keys.deadlines}), its deadline is ${deadline}`);
  return problems;
}

/**
 * How the mission's dead letter (its `queue:dlq` entry, which GET /api/dlq lists and dates, and the
 * reason its hash keeps, `dr`) differs from where its events leave it. A dead letter without `dr` is
 * one written before `dr` was: GET /api/dlq reads its reason from the log, so that is no drift; nor
 * is its date, which the versions of then took a few ms before the event's own.
 */
function deadLetterProblems(expected: DeadLetterPlace | undefined, live: LiveMission['deadLetter']): string[] {
  const problems: string[] = [];
  if (!expected) {
    if (live.score !== null) problems.push('it is in the dead-letter queue, which its events leave it out of');
    if (live.reason !== null) problems.push('it has a dead-letter reason (dr), but its events leave it out of the dead letters');
    return problems;
  }
  if (live.score === null) problems.push('it is not in the dead-letter queue, where its MissionDeadLettered put it');
  else if (live.reason !== null && Number(live.score) !== expected.at) {
    problems.push(`its dead letter is dated ${isoOrRaw(Number(live.score), live.score)}, the log says ${new Date(expected.at).toISOString()}`);
  }
  if (live.reason !== null && live.reason !== expected.reason) {
    problems.push(`its dead-letter reason (dr) is ${JSON.stringify(live.reason)}, the log says ${JSON.stringify(expected.reason)}`);
  }
  return problems;
}

/** A time in ms as ISO, or as stored when it is none. */
function isoOrRaw(ms: number, raw: string): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : raw;
}

/**
 * Why a mission's event list (what history and state read) is not the log ids of its events in
 * log order, or undefined when it is.
 */
function eventListProblem(listed: readonly string[], logIds: readonly string[]): string | undefined {
  const common = Math.min(listed.length, logIds.length);
  let at = 0;
  while (at < common && listed[at] === logIds[at]) at += 1;
  if (at < common) return `its event list (read by history and state) names ${listed[at]} as version ${at + 1}, where the log has ${logIds[at]}`;
  if (listed.length !== logIds.length) return `its event list (read by history and state) names ${listed.length} events, the log has ${logIds.length}`;
  return undefined;
}

/** Top-level fields whose values differ; null when `json` is not an object. */
function differingFields(json: string, expected: object): string[] | null {
  let actual: unknown;
  try {
    actual = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return null;
  const a = actual as Record<string, unknown>;
  const b = expected as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => canonicalJson(a[key]) !== canonicalJson(b[key]));
}
