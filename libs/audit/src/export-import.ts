import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { ChainableCommander } from 'ioredis';
import { AgentSlots, SlotHold } from '@app/agents';
import { Environment } from '@app/config';
import { KeyLayout, MISSION_HASH_FIELDS as F, MissionStore, PartitionKeys } from '@app/event-store';
import { GuestDataKeys, MasterKeyRing } from '@app/guest-data';
import { heldAgent, TERMINAL_STATUSES } from '@app/mission';
import { queueKey, queueOrderOf, QueueOrderOptions } from '@app/mission-queue';
import { IN_FLIGHT_ROUTES, restoreMissionEffects, RestoreResult, subjectIndexEffects, SubjectIndexEffect } from '@app/pipeline';
import { execAll, RedisConnection, redisNowMs } from '@app/redis';
import { CREATE_TYPE, createdSubjects, subjectIds } from './event-subjects';
import { ExportEndFilter, formatExportEndLine, headsProblem, isExportEndLine } from './export-end-line';
import { exportFileLines } from './export-file-lines';
import { ExportTally } from './export-tally';
import { ImportRefusedError } from './import-refused-error';
import { noProgress, ProgressListener } from './progress';
import { lastHashOf, ReplayFold } from './replay-fold';
import { DEFAULT_LOG_BATCH, LogCursor, parseStored, sha1Hex, StoredEntry } from './stored-log';
import {
  checkSubjectKeyLines,
  formatSubjectKeyLine,
  isSubjectKeyLine,
  parseSubjectKeyLine,
  readSubjectKeyLines,
  SubjectKeyLine,
  writeSubjectKeyLines,
  ImportKeysRefusedError,
} from './subject-key-lines';

export interface ExportFilter {
  /** Events that happened (`at`) at or after this instant. */
  from?: Date;
  /** Events that happened before this instant. */
  to?: Date;
  /** Events of this type only, e.g. MissionEvaluated. */
  type?: string;
  /** Events of this mission only. */
  mission?: string;
  /**
   * Whether the subjects' wrapped data keys follow the events (default true): those of the subjects
   * the exported events' missions name, whatever the filter (no other guest's key). false:
   * ciphertext only, readable nowhere (an extract for someone who must not see guest data even
   * with the master key): the end line records it (`filter.keys`), and an import refuses the file.
   */
  keys?: boolean;
}

export interface ExportResult {
  /** Event lines written. */
  exported: number;
  /** Subject-key lines written (after the events). */
  keys: number;
  /** Log entries read. */
  scanned: number;
}

/** One partition's share of an export: its events, and whose keys they need. */
export interface PartitionExport extends Omit<ExportResult, 'keys'> {
  /** The data subjects the missions of the exported events name (their creates'). */
  subjects: ReadonlySet<string>;
  /** The SHA-1 of the last event line exported ('' for none): the partition's head in the end line. */
  head: string;
}

export interface ImportResult {
  events: number;
  missions: number;
  /** Subjects' wrapped data keys imported. */
  keys: number;
  /** Missions whose events cannot be folded: their hash gets v and h but no state; verify names them. */
  unreplayable: string[];
  /**
   * The unfinished missions put back into the indexes their events put them in (ready queue,
   * schedule, deadlines, reviews, dead letters), and those in flight given their driving message.
   */
  restored: RestoreResult;
  /**
   * Agent slots held again for the attempts in flight (assigned, running, or evaluating before the
   * verdict), one per attempt, whatever the agent's room: the orchestrator counts them as its own
   * claims, and each attempt's end frees its slot.
   */
  agentSlots: number;
  eventsPerSecond: number;
  ms: number;
}

export const EXPORT_PHASE = 'export';
export const IMPORT_PHASE = 'import';
export const IMPORT_READ_MODEL_PHASE = 'write read model';
export const IMPORT_RESTORE_PHASE = 'restore queues and messages';

/** The ready queue's order when an import or a rebuild is given none: the defaults of PRIORITY_HEADSTART_MS_PER_POINT and DEADLINE_LEAD_MS. */
export const DEFAULT_IMPORT_QUEUE_ORDER: QueueOrderOptions = queueOrderOf(new Environment());

/** Lines appended per pipeline while importing; mission hashes written per pipeline after. */
const IMPORT_BATCH = 5_000;
/** Mission states read per pipeline for the subjects of an export by events. */
const STATE_READ_BATCH = 500;

export interface ImportOptions {
  /**
   * The master keys the export's wrapped data keys must unwrap with, asked for only when the
   * export carries any (a log without guest data imports without one). Undefined: none configured.
   */
  masterKeys?: () => MasterKeyRing | undefined;
  /** Take a file without an end line (an export made before exports wrote one) as it is: a file cut short then imports as a shorter log. */
  acceptMissingEnd?: boolean;
  /**
   * The ready queue's order of the deployment imported into (PRIORITY_HEADSTART_MS_PER_POINT,
   * DEADLINE_LEAD_MS), by which queued missions are scored as their enqueues scored them.
   * Default DEFAULT_IMPORT_QUEUE_ORDER.
   */
  queueOrder?: QueueOrderOptions;
}

/** Thrown when an import would mix with a log (or subject keys) that are already there. */
export class ImportTargetNotEmptyError extends Error {
  readonly code = 'IMPORT_TARGET_NOT_EMPTY';
  constructor(
    readonly prefix: string,
    why = 'it already has an event log (or mission index, or subject keys)',
  ) {
    super(`refusing to import into prefix "${prefix}": ${why}; import needs an empty prefix`);
    this.name = 'ImportTargetNotEmptyError';
  }
}

/**
 * Streams the log (or the events matching `filter`) to `out` as JSON lines, partition after
 * partition, each in log order, each
 * line the stored event JSON exactly as stored (hash links included, so a full export can be
 * verified after import). Constant memory: one XRANGE batch at a time, waiting for `drain` when
 * `out` is full. `out` is not ended. After the events come the data keys of the subjects their
 * missions name (ExportedSubjects: no other guest's, whatever the filter), wrapped as stored
 * (SUBJECT_KEY_LINE lines); personal fields are in the events as stored, ciphertext. The
 * keys are read after the log because an erasure destroys the key before it records SubjectErased:
 * a log that shows an erasure (or that missed one) is then never paired with the erased key, so an
 * erased subject stays erased in every export. The last line (EXPORT_END_LINE) counts what was
 * written, so that an import can tell a whole file from one cut short, and names the filters a
 * filtered export was made with (`filter`, `--no-keys` among them), so that one can tell it from a whole one.
 */
export async function exportLog(
  redis: RedisConnection,
  keys: KeyLayout,
  out: Writable,
  filter: ExportFilter = {},
  onProgress: ProgressListener = noProgress,
): Promise<ExportResult> {
  const total = { exported: 0, keys: 0, scanned: 0 };
  const subjects = new Set<string>();
  const heads: string[] = [];
  for (const partition of keys.partitions) {
    const result = await exportPartition(redis, partition, out, filter, onProgress);
    total.exported += result.exported;
    total.scanned += result.scanned;
    heads.push(result.head);
    for (const subject of result.subjects) subjects.add(subject);
  }
  if (filter.keys !== false) {
    const lines = await readSubjectKeyLines(redis, new GuestDataKeys(keys.prefix), subjects);
    await writeAll(out, lines.map(formatSubjectKeyLine));
    total.keys = lines.length;
  }
  const endFilter: ExportEndFilter = {
    from: filter.from?.toISOString(),
    to: filter.to?.toISOString(),
    type: filter.type,
    mission: filter.mission,
    keys: filter.keys === false ? false : undefined,
  };
  await writeAll(out, [formatExportEndLine({ events: total.exported, subjectKeys: total.keys, partitions: keys.partitions.length, heads, filter: endFilter })]);
  return total;
}

/**
 * The data subjects an export's events are about, whose wrapped keys follow them: those each
 * exported event's mission names in its create, and no other guest's, whatever the filter. A
 * filter of whole missions (none, or `mission`) exports each mission's create with the rest of its
 * events, so the create lines say it all and nothing is held per mission. A filter of events
 * (`from`, `to`, `type`) may leave a mission's create out: such a mission's subjects are read from
 * its state (folded from that create) once its partition is exported, holding its id until then.
 */
class ExportedSubjects {
  readonly subjects = new Set<string>();
  /** With a filter of events: missions whose create was exported, and those exported without it. */
  private readonly created = new Set<string>();
  private readonly withoutCreate = new Set<string>();

  constructor(private readonly wholeMissions: boolean) {}

  add(entry: StoredEntry): void {
    // Only a create names subjects: the other lines need no parse of their own.
    const stored = entry.json.includes(`"${CREATE_TYPE}"`) ? parseStored(entry.json) : null;
    if (stored?.type === CREATE_TYPE) {
      for (const subject of createdSubjects(stored)) this.subjects.add(subject);
      if (!this.wholeMissions) this.created.add(entry.missionId);
    } else if (!this.wholeMissions && !this.created.has(entry.missionId)) {
      this.withoutCreate.add(entry.missionId);
    }
  }

  /** The subjects of the missions exported without their create, from their state in `keys`' partition. */
  async readStates(redis: RedisConnection, keys: PartitionKeys): Promise<void> {
    const missions = [...this.withoutCreate].filter((missionId) => !this.created.has(missionId));
    for (let offset = 0; offset < missions.length; offset += STATE_READ_BATCH) {
      const pipeline = redis.pipeline();
      for (const missionId of missions.slice(offset, offset + STATE_READ_BATCH)) pipeline.hget(keys.mission(missionId), F.state);
      for (const [error, json] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        for (const subject of subjectIds(parseStored(typeof json === 'string' ? json : '')?.subjects)) this.subjects.add(subject);
      }
    }
    this.created.clear();
    this.withoutCreate.clear();
  }
}

/** Writes lines in chunks, waiting for `drain`, and fails with the stream's own error. */
async function writeAll(out: Writable, lines: readonly string[]): Promise<void> {
  for (let offset = 0; offset < lines.length; offset += IMPORT_BATCH) {
    const chunk = lines.slice(offset, offset + IMPORT_BATCH).join('');
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(out, 'error').then(([error]) => Promise.reject(error as Error))]);
  }
}

/** One log partition's part of `exportLog`: its events, and the subjects whose keys they need. */
export async function exportPartition(
  redis: RedisConnection,
  keys: PartitionKeys,
  out: Writable,
  filter: ExportFilter = {},
  onProgress: ProgressListener = noProgress,
): Promise<PartitionExport> {
  const total = await redis.xlen(keys.log);
  const matches = exportMatcher(filter);
  const subjects = new ExportedSubjects(filter.from === undefined && filter.to === undefined && filter.type === undefined);
  let failure: Error | undefined;
  const onError = (error: Error) => (failure = error);
  out.on('error', onError);
  try {
    const cursor = new LogCursor(redis, keys.log, DEFAULT_LOG_BATCH);
    let exported = 0;
    let lastLine: string | undefined;
    for await (const batch of cursor.batches()) {
      const matched = batch.filter(matches);
      for (const entry of matched) subjects.add(entry);
      lastLine = matched.at(-1)?.json ?? lastLine;
      const lines = matched.map((entry) => `${entry.json}\n`);
      exported += lines.length;
      if (failure) throw failure;
      if (lines.length > 0 && !out.write(lines.join(''))) await once(out, 'drain');
      if (failure) throw failure;
      onProgress({ phase: EXPORT_PHASE, done: cursor.count, total: Math.max(total, cursor.count) });
    }
    await subjects.readStates(redis, keys);
    return { exported, scanned: cursor.count, subjects: subjects.subjects, head: lastLine === undefined ? '' : sha1Hex(lastLine) };
  } finally {
    out.off('error', onError);
  }
}

function exportMatcher(filter: ExportFilter): (entry: StoredEntry) => boolean {
  const from = filter.from?.getTime();
  const to = filter.to?.getTime();
  const needsEvent = from !== undefined || to !== undefined || filter.type !== undefined;
  return (entry) => {
    if (!entry.json) return false;
    if (filter.mission !== undefined && entry.missionId !== filter.mission) return false;
    if (!needsEvent) return true;
    const stored = parseStored(entry.json);
    if (!stored) return false;
    if (filter.type !== undefined && stored.type !== filter.type) return false;
    const at = typeof stored.at === 'string' ? Date.parse(stored.at) : Number.NaN;
    if (from !== undefined && !(at >= from)) return false;
    if (to !== undefined && !(at < to)) return false;
    return true;
  };
}

/** One log partition's share of an import. */
interface ImportLane {
  keys: PartitionKeys;
  pipeline: ChainableCommander;
  /** Each mission's new log entry ids in this batch: one RPUSH per mission instead of one per event. */
  listed: Map<string, string[]>;
  /** The last line imported into this partition: its hash is the partition's log head. */
  lastLine: string;
  /** Its number in the file, for a head that is not the export's. */
  lastLineNumber: number;
  events: number;
  counts: Record<string, number>;
}

/**
 * Imports JSON lines written by `exportLog` into an empty prefix (refuses when a partition's log
 * or mission index exists). Each line goes to its mission's partition (so import with the
 * LOG_PARTITIONS the export was made with, or the per-partition chains break): appended as-is to
 * that log (XADD m/e, ids counted up from the server's clock), to its mission's event list and,
 * for a mission's first event, to the mission index (score: the event's `at`), and, as each line
 * folds, to the indexes of data subjects its effects write live (each subject's missions, the
 * finished ones by type for retention, counted from when each finished: subjectIndexEffects in
 * @app/pipeline); then the read model folded from the same lines is written: mission hashes (v,
 * st, s, h), status counters and the log heads. Each attempt in flight holds its
 * agent's slot again (AgentSlots.restore), as its assignment's claim held it. Last, each unfinished
 * mission is put back into the queues and sets its events put it in, and a mission in flight gets the message
 * that drives it on (restoreMissionEffects in @app/pipeline: the append's own effects, replayed from
 * its events; no event is appended). Hashes are of the lines as given, so a tampered file imports as a log that
 * `verify` rejects. The subject-key lines (after the events; before them in exports made before
 * that order) are checked against `options.masterKeys` (ImportKeysRefusedError when one does not
 * unwrap: its guest data could never be read here) before any key or read model is written; when
 * they follow the events, the events written so far are removed again before it is thrown. Then
 * they are stored as they are, still wrapped. Before that too, the file is held to its end line
 * (ImportRefusedError, with what was written removed, when it is cut short, appended to, made
 * with other partitions, filtered, or without the keys of guests it names that were not erased;
 * see ExportTally).
 */
export async function importLog(
  redis: RedisConnection,
  keys: KeyLayout,
  input: Readable,
  onProgress: ProgressListener = noProgress,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const started = performance.now();
  for (const partition of keys.partitions) {
    if ((await redis.exists(partition.log, partition.missionIndex)) > 0) throw new ImportTargetNotEmptyError(keys.prefix);
  }
  const guestKeys = new GuestDataKeys(keys.prefix);
  for (const hash of guestKeys.subjectKeyHashes) if ((await redis.exists(hash)) > 0) throw new ImportTargetNotEmptyError(keys.prefix);
  // The messages written for missions in flight must reach services started after the import: a
  // running executor would take a running mission's as new, leave the attempt alone, and ack it.
  for (const stream of keys.partitions.flatMap((partition) => IN_FLIGHT_ROUTES.map((route) => partition.stream(route)))) {
    if ((await redis.exists(stream)) > 0) {
      throw new ImportTargetNotEmptyError(
        keys.prefix,
        `its services have run on it (${stream} exists); stop them and purge the prefix (replay purge --prefix ${keys.prefix} --yes) first`,
      );
    }
  }
  const baseMs = await redisNowMs(redis);
  // The target is checked: from here on it is written (a caller stopped after this leaves it partial).
  onProgress({ phase: IMPORT_PHASE, done: 0 });

  // A pipeline per partition: on a Redis Cluster one pipeline may only touch one node.
  const lanes: ImportLane[] = keys.partitions.map((partition) => ({
    keys: partition,
    pipeline: redis.pipeline(),
    listed: new Map(),
    lastLine: '',
    lastLineNumber: 0,
    events: 0,
    counts: {},
  }));
  // The subject and retention sets, which the append wrote with each event's effects, written
  // from the same rules (subjectIndexEffects) as each event folds; kept to be removed on a refusal.
  const indexKeys = new Set<string>();
  // The read model it writes includes each mission's `h`, the hash of its last event.
  const fold = new ReplayFold({
    keepLastEvent: true,
    onFolded: (event, previous, next) => {
      const lane = lanes[keys.partitionOf(event.missionId)];
      for (const effect of subjectIndexEffects(event, previous, next))
        indexKeys.add(writeSubjectIndexEffect(lane.pipeline, lane.keys, event.missionId, effect));
    },
  });
  let pending = 0;
  let events = 0;
  const flush = async () => {
    await Promise.all(
      lanes.map(async (lane) => {
        for (const [missionId, ids] of lane.listed) lane.pipeline.rpush(lane.keys.missionEvents(missionId), ...ids);
        await execAll(lane.pipeline);
        lane.pipeline = redis.pipeline();
        lane.listed = new Map();
      }),
    );
    pending = 0;
  };
  // Keys before the events (an older export) are checked at the first event, before any write;
  // keys after them (an export now) at the end, before the read model, undoing the events on refusal.
  const subjectKeys: SubjectKeyLine[] = [];
  let keysWritten = false;
  let keysBefore = false;
  const writeKeys = async () => {
    keysWritten = true;
    if (subjectKeys.length === 0) return;
    checkSubjectKeyLines(subjectKeys, options.masterKeys?.());
    await writeSubjectKeyLines(redis, guestKeys, subjectKeys, IMPORT_BATCH);
  };
  const tally = new ExportTally();
  let lineNumber = 0;
  const lines = exportFileLines(input);
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    const stored = parseStored(line);
    if (!stored) throw new Error(`line ${lineNumber} is not a JSON object`);
    tally.add(stored, lineNumber);
    if (isExportEndLine(stored)) continue;
    if (isSubjectKeyLine(stored)) {
      if (keysBefore) throw new Error(`line ${lineNumber} is a subject key after the events, and keys came before them too; an export writes one block`);
      subjectKeys.push(parseSubjectKeyLine(stored, lineNumber));
      continue;
    }
    if (!keysWritten) {
      keysBefore = subjectKeys.length > 0;
      await writeKeys();
    }
    if (typeof stored.missionId !== 'string' || !stored.missionId) throw new Error(`line ${lineNumber} has no missionId`);
    const missionId = stored.missionId;
    const lane = lanes[keys.partitionOf(missionId)];
    const logId = `${baseMs}-${lane.events}`;
    lane.pipeline.xadd(lane.keys.log, logId, 'm', missionId, 'e', line);
    const ids = lane.listed.get(missionId);
    if (ids) ids.push(logId);
    else lane.listed.set(missionId, [logId]);
    if (!fold.get(missionId)) {
      const createdAt = typeof stored.at === 'string' ? Date.parse(stored.at) : Number.NaN;
      lane.pipeline.zadd(lane.keys.missionIndex, Number.isNaN(createdAt) ? baseMs : createdAt, missionId);
    }
    lane.lastLine = line;
    lane.lastLineNumber = lineNumber;
    fold.add({ logId, missionId, json: line }, stored);
    lane.events++;
    events++;
    if (++pending >= IMPORT_BATCH) {
      await flush();
      onProgress({ phase: IMPORT_PHASE, done: events });
    }
  }
  await flush();
  try {
    tally.check(keys.partitions.length, { acceptMissingEnd: options.acceptMissingEnd });
    const heads = headsProblem(
      tally.heads,
      lanes.map((lane) => ({ hash: lane.events > 0 ? sha1Hex(lane.lastLine) : '', lineNumber: lane.lastLineNumber })),
    );
    if (heads) throw new ImportRefusedError(heads);
    if (!keysWritten || (!keysBefore && subjectKeys.length > 0)) await writeKeys();
  } catch (error) {
    if (error instanceof ImportKeysRefusedError || error instanceof ImportRefusedError) await removeImported(redis, keys, fold, indexKeys);
    throw error;
  }
  onProgress({ phase: IMPORT_PHASE, done: events });

  const missions = [...fold.values()];
  const unreplayable: string[] = [];
  const holds: SlotHold[] = [];
  for (let offset = 0; offset < missions.length; offset += IMPORT_BATCH) {
    for (const mission of missions.slice(offset, offset + IMPORT_BATCH)) {
      const lane = lanes[keys.partitionOf(mission.missionId)];
      const state = mission.failure ? null : mission.state;
      if (state) {
        lane.pipeline.hset(lane.keys.mission(mission.missionId), {
          [F.version]: String(state.version),
          [F.status]: state.status,
          [F.state]: JSON.stringify(state),
          [F.lastEventHash]: lastHashOf(mission),
        });
        lane.counts[state.status] = (lane.counts[state.status] ?? 0) + 1;
        const agentId = heldAgent(state);
        if (agentId) holds.push({ agentId, missionId: mission.missionId, attempt: state.attempts });
      } else {
        unreplayable.push(mission.missionId);
        lane.pipeline.hset(lane.keys.mission(mission.missionId), { [F.version]: String(mission.lastVersion), [F.lastEventHash]: lastHashOf(mission) });
      }
    }
    await flush();
    onProgress({ phase: IMPORT_READ_MODEL_PHASE, done: Math.min(offset + IMPORT_BATCH, missions.length), total: missions.length });
  }
  for (const lane of lanes) {
    if (Object.keys(lane.counts).length > 0) lane.pipeline.hset(lane.keys.statusCounts, lane.counts);
    if (lane.events > 0) lane.pipeline.set(lane.keys.logHead, sha1Hex(lane.lastLine));
  }
  await flush();

  // The slots the attempts in flight hold (the agents' keys are not exported): without them the
  // orchestrator would fill those agents up to their capacity beside the imported attempts.
  const agentSlots = await new AgentSlots(redis, keys).restore(holds);

  // The indexes the append's effects keep, and the messages of missions in flight, which no line carries.
  const order = options.queueOrder ?? DEFAULT_IMPORT_QUEUE_ORDER;
  const unfinished = missions.filter((m) => m.state && !m.failure && !TERMINAL_STATUSES.includes(m.state.status)).map((m) => m.missionId);
  const restored = await restoreMissionEffects(redis, new MissionStore(redis, keys), unfinished, {
    queueScore: (mission, enqueuedAt) => queueKey(mission, enqueuedAt, order),
    messages: true,
    onProgress: (done) => onProgress({ phase: IMPORT_RESTORE_PHASE, done, total: unfinished.length }),
  });

  const ms = performance.now() - started;
  return {
    events,
    missions: missions.length,
    keys: subjectKeys.length,
    unreplayable,
    restored,
    agentSlots,
    eventsPerSecond: ms > 0 ? Math.round((events / ms) * 1000) : 0,
    ms: Math.round(ms),
  };
}

/**
 * Deletes what an import wrote before its read model (logs, mission index, event lists, subject
 * and retention sets, subject keys) from a prefix that was empty when it began, so a refused
 * import leaves nothing behind.
 */
async function removeImported(redis: RedisConnection, keys: KeyLayout, fold: ReplayFold, indexKeys: ReadonlySet<string>): Promise<void> {
  for (const partition of keys.partitions) await redis.del(partition.log, partition.missionIndex);
  for (const hash of new GuestDataKeys(keys.prefix).subjectKeyHashes) await redis.del(hash);
  for (const mission of fold.values()) await redis.del(keys.missionEvents(mission.missionId));
  for (const key of indexKeys) await redis.del(key);
}

/**
 * Writes a subject-index effect into a pipeline as the append script applies it (its sadd and zadd
 * in mission-store.ts's encodeEffect): an import's, and rebuild's putting a mission back in a
 * subject's set; returns the key it writes.
 */
export function writeSubjectIndexEffect(pipeline: ChainableCommander, k: PartitionKeys, missionId: string, effect: SubjectIndexEffect): string {
  switch (effect.kind) {
    case 'index-subject': {
      const key = k.subjectMissions(effect.subject);
      pipeline.sadd(key, missionId);
      return key;
    }
    case 'retain': {
      const key = k.retention(effect.missionType);
      pipeline.zadd(key, effect.at, missionId);
      return key;
    }
  }
}
