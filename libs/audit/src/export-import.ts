import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Readable, Writable } from 'node:stream';
import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { noProgress, ProgressListener } from './progress';
import { lastHashOf, ReplayFold } from './replay-fold';
import { DEFAULT_LOG_BATCH, LogCursor, parseStored, sha1Hex, StoredEntry } from './stored-log';

export interface ExportFilter {
  /** Events that happened (`at`) at or after this instant. */
  from?: Date;
  /** Events that happened before this instant. */
  to?: Date;
  /** Events of this type only, e.g. MissionEvaluated. */
  type?: string;
  /** Events of this mission only. */
  mission?: string;
}

export interface ExportResult {
  /** Lines written. */
  exported: number;
  /** Log entries read. */
  scanned: number;
}

export interface ImportResult {
  events: number;
  missions: number;
  /** Missions whose events cannot be folded: their hash gets v and h but no state; verify names them. */
  unreplayable: string[];
  eventsPerSecond: number;
  ms: number;
}

export const EXPORT_PHASE = 'export';
export const IMPORT_PHASE = 'import';
export const IMPORT_READ_MODEL_PHASE = 'write read model';

/** Lines appended per pipeline while importing; mission hashes written per pipeline after. */
const IMPORT_BATCH = 5_000;

/** Thrown when an import would mix with a log that is already there. */
export class ImportTargetNotEmptyError extends Error {
  readonly code = 'IMPORT_TARGET_NOT_EMPTY';
  constructor(readonly prefix: string) {
    super(`refusing to import into prefix "${prefix}": it already has an event log (or mission index); import needs an empty prefix`);
    this.name = 'ImportTargetNotEmptyError';
  }
}

/**
 * Streams the log (or the events matching `filter`) to `out` as JSON lines, in log order, each
 * line the stored event JSON exactly as stored (hash links included, so a full export can be
 * verified after import). Constant memory: one XRANGE batch at a time, waiting for `drain` when
 * `out` is full. `out` is not ended.
 */
export async function exportLog(
  redis: Redis,
  keys: KeyLayout,
  out: Writable,
  filter: ExportFilter = {},
  onProgress: ProgressListener = noProgress,
): Promise<ExportResult> {
  const total = await redis.xlen(keys.log);
  const matches = exportMatcher(filter);
  let failure: Error | undefined;
  const onError = (error: Error) => (failure = error);
  out.on('error', onError);
  try {
    const cursor = new LogCursor(redis, keys.log, DEFAULT_LOG_BATCH);
    let exported = 0;
    for await (const batch of cursor.batches()) {
      const lines = batch.filter(matches).map((entry) => `${entry.json}\n`);
      exported += lines.length;
      if (failure) throw failure;
      if (lines.length > 0 && !out.write(lines.join(''))) await once(out, 'drain');
      if (failure) throw failure;
      onProgress({ phase: EXPORT_PHASE, done: cursor.count, total: Math.max(total, cursor.count) });
    }
    return { exported, scanned: cursor.count };
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

/**
 * Imports JSON lines written by `exportLog` into an empty prefix (refuses when `keys.log` or the
 * mission index exists): appends each line as-is to the log (XADD m/e, ids counted up from the
 * server's clock), to its mission's event list and, for a mission's first event, to the mission
 * index (score: the event's `at`); then writes the read model folded from the same lines: mission
 * hashes (v, st, s, h), status counters and the log head. Hashes are of the lines as given, so a
 * tampered file imports as a log that `verify` rejects.
 */
export async function importLog(redis: Redis, keys: KeyLayout, input: Readable, onProgress: ProgressListener = noProgress): Promise<ImportResult> {
  const started = performance.now();
  if ((await redis.exists(keys.log, keys.missionIndex)) > 0) throw new ImportTargetNotEmptyError(keys.prefix);
  const [seconds, micros] = await redis.time();
  const baseMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);

  const fold = new ReplayFold();
  let pipeline = redis.pipeline();
  /** Each mission's new log entry ids in this batch: one RPUSH per mission instead of one per event. */
  let listed = new Map<string, string[]>();
  let pending = 0;
  let events = 0;
  const flush = async () => {
    for (const [missionId, ids] of listed) pipeline.rpush(keys.missionEvents(missionId), ...ids);
    await execAll(pipeline);
    pipeline = redis.pipeline();
    listed = new Map();
    pending = 0;
  };
  let lineNumber = 0;
  let lastLine = '';
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    const stored = parseStored(line);
    if (!stored) throw new Error(`line ${lineNumber} is not a JSON object`);
    if (typeof stored.missionId !== 'string' || !stored.missionId) throw new Error(`line ${lineNumber} has no missionId`);
    const missionId = stored.missionId;
    const logId = `${baseMs}-${events}`;
    pipeline.xadd(keys.log, logId, 'm', missionId, 'e', line);
    const ids = listed.get(missionId);
    if (ids) ids.push(logId);
    else listed.set(missionId, [logId]);
    if (!fold.get(missionId)) {
      const createdAt = typeof stored.at === 'string' ? Date.parse(stored.at) : Number.NaN;
      pipeline.zadd(keys.missionIndex, Number.isNaN(createdAt) ? baseMs : createdAt, missionId);
    }
    lastLine = line;
    fold.add({ logId, missionId, json: line }, stored);
    events++;
    if (++pending >= IMPORT_BATCH) {
      await flush();
      onProgress({ phase: IMPORT_PHASE, done: events });
    }
  }
  await flush();
  onProgress({ phase: IMPORT_PHASE, done: events });

  const missions = [...fold.values()];
  const unreplayable: string[] = [];
  for (let offset = 0; offset < missions.length; offset += IMPORT_BATCH) {
    const batch = redis.pipeline();
    for (const mission of missions.slice(offset, offset + IMPORT_BATCH)) {
      const state = mission.failure ? null : mission.state;
      if (state) {
        batch.hset(keys.mission(mission.missionId), { v: String(state.version), st: state.status, s: JSON.stringify(state), h: lastHashOf(mission) });
      } else {
        unreplayable.push(mission.missionId);
        batch.hset(keys.mission(mission.missionId), { v: String(mission.lastVersion), h: lastHashOf(mission) });
      }
    }
    await execAll(batch);
    onProgress({ phase: IMPORT_READ_MODEL_PHASE, done: Math.min(offset + IMPORT_BATCH, missions.length), total: missions.length });
  }
  const final = redis.pipeline();
  const counts = Object.fromEntries(fold.statusCounts());
  if (Object.keys(counts).length > 0) final.hset(keys.statusCounts, counts);
  if (events > 0) final.set(keys.logHead, sha1Hex(lastLine));
  await execAll(final);

  const ms = performance.now() - started;
  return { events, missions: missions.length, unreplayable, eventsPerSecond: ms > 0 ? Math.round((events / ms) * 1000) : 0, ms: Math.round(ms) };
}

async function execAll(pipeline: ReturnType<Redis['pipeline']>): Promise<void> {
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}
