import { GuestDataError, GuestDataKeys, isSubjectId, MasterKeyRing, SubjectKeyRecord } from '@app/guest-data';
import { RedisConnection } from '@app/redis';
import { StoredObject } from './stored-log';

/**
 * The `kind` of an export line that carries a subject's data key, wrapped as stored: never the
 * data key itself, so an export holds no plaintext and nothing that opens it without the master
 * key. Event lines have no `kind` (they are the stored event JSON).
 */
export const SUBJECT_KEY_LINE = 'subject-key';

/** One subject's wrapped data key, as an export line carries it. */
export interface SubjectKeyLine extends SubjectKeyRecord {
  kind: typeof SUBJECT_KEY_LINE;
  subject: string;
}

/** Why an import refused an export's subject keys; nothing was written when it is thrown. */
export enum ImportKeysProblem {
  /** A key is wrapped under a master key this configuration does not have. */
  UnknownMasterKey = 'unknown-master-key',
  /** A key names a configured master key but does not unwrap with it (altered, or another secret with a clashing id). */
  DoesNotUnwrap = 'does-not-unwrap',
  /** The export carries keys, and no master key was given to check them with. */
  NoMasterKey = 'no-master-key',
}

/** Thrown before anything is written when the export's wrapped keys cannot be unwrapped here. */
export class ImportKeysRefusedError extends Error {
  readonly code = 'IMPORT_KEYS_REFUSED';
  constructor(
    readonly problem: ImportKeysProblem,
    message: string,
  ) {
    super(`refusing to import: ${message}; nothing was written`);
    this.name = 'ImportKeysRefusedError';
  }
}

/** Whether a parsed export line is a subject-key line rather than an event. */
export function isSubjectKeyLine(stored: StoredObject): boolean {
  return stored.kind === SUBJECT_KEY_LINE;
}

/** The line's record, or an error naming the line when a field is missing. */
export function parseSubjectKeyLine(stored: StoredObject, lineNumber: number): SubjectKeyLine {
  const { subject, kid, wrapped, mk, createdAt } = stored;
  if (typeof subject !== 'string' || typeof kid !== 'string' || typeof wrapped !== 'string' || typeof mk !== 'string' || typeof createdAt !== 'string') {
    throw new Error(`line ${lineNumber} is a subject key without subject, kid, wrapped, mk and createdAt`);
  }
  if (!isSubjectId(subject)) throw new Error(`line ${lineNumber} is a subject key whose subject is not a subject id`);
  return { kind: SUBJECT_KEY_LINE, subject, kid, wrapped, mk, createdAt };
}

/** Subjects asked for per HMGET while reading their keys. */
const KEY_READ_BATCH = 500;

/**
 * The wrapped data keys of `subjects` (those that have one: an erased subject has none), read from
 * the key store's hashes as stored: an export needs no master key. One HMGET per hash and batch,
 * each on one cluster slot.
 */
export async function readSubjectKeyLines(redis: RedisConnection, keys: GuestDataKeys, subjects: Iterable<string>): Promise<SubjectKeyLine[]> {
  const stored: [string, string][] = [];
  for (const [hash, named] of byKeyHash(keys, subjects, (subject) => subject)) {
    for (let offset = 0; offset < named.length; offset += KEY_READ_BATCH) {
      const batch = named.slice(offset, offset + KEY_READ_BATCH);
      const values = await redis.hmget(hash, ...batch);
      values.forEach((json, i) => {
        if (json !== null) stored.push([batch[i], json]);
      });
    }
  }
  const lines: SubjectKeyLine[] = [];
  for (const [subject, json] of stored.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let record: StoredObject | null = null;
    try {
      record = JSON.parse(json) as StoredObject;
    } catch {
      record = null;
    }
    const { kid, wrapped, mk, createdAt } = record ?? {};
    if (typeof kid !== 'string' || typeof wrapped !== 'string' || typeof mk !== 'string' || typeof createdAt !== 'string') {
      throw new Error(`the stored data key of subject ${subject} is not a key record`);
    }
    lines.push({ kind: SUBJECT_KEY_LINE, subject, kid, wrapped, mk, createdAt });
  }
  return lines;
}

/** The export line of a key: fixed field order, so two exports of the same keys are byte for byte equal. */
export function formatSubjectKeyLine(line: SubjectKeyLine): string {
  const { subject, kid, wrapped, mk, createdAt } = line;
  return `${JSON.stringify({ kind: SUBJECT_KEY_LINE, subject, kid, wrapped, mk, createdAt })}\n`;
}

/**
 * Checks, before an import writes anything, that every key is wrapped under a master key of
 * `ring` and unwraps with it (the authentication tag proves it is the same secret, not only the
 * same id). The error names the export's master keys and the configured ones, never a secret.
 */
export function checkSubjectKeyLines(lines: readonly SubjectKeyLine[], ring: MasterKeyRing | undefined): void {
  if (lines.length === 0) return;
  const exported = [...new Set(lines.map((line) => line.mk))];
  if (!ring) {
    throw new ImportKeysRefusedError(
      ImportKeysProblem.NoMasterKey,
      `the export carries ${lines.length} wrapped data keys (master key ${exported.join(', ')}) and no master key is configured to check them with; ` +
        'set DATA_KEY_SECRET or DATA_KEY_FILE to the master key of the deployment that made the export',
    );
  }
  const unknown = exported.filter((mk) => !ring.has(mk));
  if (unknown.length > 0) {
    const count = lines.filter((line) => !ring.has(line.mk)).length;
    throw new ImportKeysRefusedError(
      ImportKeysProblem.UnknownMasterKey,
      `${count} of the export's ${lines.length} data keys are wrapped under master key ${unknown.join(', ')}, which is not configured here ` +
        `(configured: ${ring.ids.join(', ')}), so its guest data could never be read; set DATA_KEY_SECRET or DATA_KEY_FILE to the master key ` +
        'of the deployment that made the export (or list it in DATA_KEY_PREVIOUS_SECRETS / DATA_KEY_PREVIOUS_FILES)',
    );
  }
  for (const line of lines) {
    try {
      ring.unwrap(line.subject, line.kid, line);
    } catch (error) {
      if (!(error instanceof GuestDataError)) throw error;
      throw new ImportKeysRefusedError(ImportKeysProblem.DoesNotUnwrap, `the data key of subject ${line.subject} does not unwrap: ${error.message}`);
    }
  }
}

/** Writes checked keys into an empty key store, one HSET per hash and batch (one cluster slot each). */
export async function writeSubjectKeyLines(redis: RedisConnection, keys: GuestDataKeys, lines: readonly SubjectKeyLine[], batch: number): Promise<void> {
  for (const [hash, held] of byKeyHash(keys, lines, (line) => line.subject)) {
    for (let offset = 0; offset < held.length; offset += batch) {
      const fields = held
        .slice(offset, offset + batch)
        .map(({ subject, kid, wrapped, mk, createdAt }) => [subject, JSON.stringify({ kid, wrapped, mk, createdAt })]);
      await redis.hset(hash, Object.fromEntries(fields));
    }
  }
}

/** Items grouped by the key-store hash of their subject: a command per group stays on one cluster slot. */
function byKeyHash<T>(keys: GuestDataKeys, items: Iterable<T>, subjectOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const hash = keys.subjectKeys(subjectOf(item));
    const group = groups.get(hash);
    if (group) group.push(item);
    else groups.set(hash, [item]);
  }
  return groups;
}
