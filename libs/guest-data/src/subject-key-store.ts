import { join } from 'node:path';
import { LuaScript, luaEnum, RedisConnection } from '@app/redis';
import { SubjectDataKey } from './field-envelope';
import { GuestDataError, GuestDataErrorCode, WrongMasterKeyError } from './guest-data-error';
import { GuestDataKeys } from './guest-data-keys';
import { MasterKeyRing } from './master-key-ring';
import { guestDataRandom } from './random-pool';
import { assertSubjectId } from './subject-id';
import { SubjectKeyCache } from './subject-key-cache';

/** A subject's data key as stored in its hash field: wrapped, never in plain. */
export interface SubjectKeyRecord {
  /** Key id: a new one for every key made, so a token of an erased key never opens with a later key of the same subject. */
  kid: string;
  /** base64url of the data key encrypted under the master key `mk` (see MasterKeyRing.wrap). */
  wrapped: string;
  /** Id of the master key it is wrapped under. */
  mk: string;
  /** ISO time the key was made. */
  createdAt: string;
}

/** Key records sampledMasterKeyIds reads per subject-key hash: 16 × 8 at most, the same cost on any deployment. */
const MASTER_KEY_SAMPLE_PER_HASH = 8;

/**
 * How often make() tries to give a subject a data key. Each try after the first follows another
 * process's key destroyed by an erasure between this HSETNX and the read: already rare twice.
 */
export const SUBJECT_KEY_MAKE_ATTEMPTS = 5;

/**
 * A subject's data key was erased each time it was made, SUBJECT_KEY_MAKE_ATTEMPTS times: the guest
 * is being erased as fast as data for them arrives, and a later try may pass. The message does not
 * name the subject, as a failed attempt's error (lastError) is carried outside.
 */
export class SubjectKeyContendedError extends Error {
  constructor(
    readonly subject: string,
    readonly attempts: number,
  ) {
    super(`a data subject's key was erased each time it was made (${attempts} times); try again`);
    this.name = 'SubjectKeyContendedError';
  }
}

/** Subjects of one mission only (resolveSubjects): made by that mission's create. */
const MISSION_SUBJECT_PREFIX = 'mission:';

enum ReplaceCode {
  Replaced = 0,
  Changed = 1,
}

const replaceScript = new LuaScript(join(__dirname, 'lua'), 'replace-subject-key-1', { constants: { CODE: luaEnum(ReplaceCode) } });

/**
 * Sets `field` of `hash` to `next` only if it still holds `read`, as a rewrap does, so a value
 * deleted or replaced meanwhile stays as it is. Whether it was replaced.
 */
export async function replaceIfUnchanged(redis: RedisConnection, hash: string, field: string, read: string, next: string): Promise<boolean> {
  return ((await replaceScript.run(redis, [hash], [field, read, next])) as ReplaceCode) === ReplaceCode.Replaced;
}

export interface RewrapResult {
  /** Keys moved to the current master key. */
  rewrapped: number;
  /** Keys already under the current master key. */
  current: number;
  /** Keys destroyed or replaced while the rewrap ran (left as they are). */
  changed: number;
  /**
   * Keys wrapped under a master key the ring lacks, left as they are: a rotation's step 1 skipped
   * somewhere, or an old key dropped too soon. Named so the operator can configure that master key
   * and run again; ids only (pseudonymous), never the key material.
   */
  notConfigured: NotRewrapped[];
}

/** A key a rewrap could not unwrap, because the master key it is wrapped under is not configured. */
export interface NotRewrapped {
  /** The data subject, or the webhook subscription, the key belongs to. */
  owner: string;
  /** The data key's id (absent for a webhook signing secret). */
  kid?: string;
  /** Id of the master key it is wrapped under. */
  mk: string;
}

/**
 * `unwrap()`, or undefined when it needs a master key the ring lacks (recorded in `result`): one
 * key of an unknown master key must not stop a rewrap halfway, before the keys after it.
 */
export function unwrappedOrSkipped<T>(result: RewrapResult, skipped: Omit<NotRewrapped, 'mk'>, unwrap: () => T): T | undefined {
  try {
    return unwrap();
  } catch (error) {
    if (!(error instanceof WrongMasterKeyError)) throw error;
    result.notConfigured.push({ ...skipped, mk: error.required });
    return undefined;
  }
}

/**
 * The ids of the master keys a sample of the key records under `keys` is wrapped under: up to
 * MASTER_KEY_SAMPLE_PER_HASH random records of each subject-key hash (HRANDFIELD, one command per
 * hash, in parallel; each hash is a key of its own, so a Redis Cluster routes each to its slot's
 * node), not a scan, so a start-up stays cheap on a big deployment. Empty only when no hash holds a
 * record: HRANDFIELD returns some of any hash that has one. A record that is not one is left to
 * whoever reads it. Needs no master key: what a start reads before it may generate one.
 */
export async function sampledMasterKeyIds(redis: RedisConnection, keys: GuestDataKeys): Promise<string[]> {
  const samples = await Promise.all(keys.subjectKeyHashes.map((hash) => redis.hrandfield(hash, MASTER_KEY_SAMPLE_PER_HASH, 'WITHVALUES')));
  const masterKeyIds = new Set<string>();
  for (const sample of samples) {
    // Field, value, field, value…: the subject and its record.
    const fieldsAndValues = (sample ?? []) as string[];
    for (let index = 0; index + 1 < fieldsAndValues.length; index += 2) {
      const record = recordOrUndefined(fieldsAndValues[index], fieldsAndValues[index + 1]);
      if (record) masterKeyIds.add(record.mk);
    }
  }
  return [...masterKeyIds];
}

/**
 * The subjects' data keys in Redis: one hash field per subject, made on first use (race-safe:
 * HSETNX, the first writer wins and everyone uses its key), destroyed on erasure. Unwrapped keys
 * are cached in this process (SubjectKeyCache) for decrypting; sealing always checks the stored
 * key id first, so nothing new is sealed under a key another process has destroyed.
 */
export class SubjectKeyStore {
  constructor(
    private readonly redis: RedisConnection,
    readonly keys: GuestDataKeys,
    readonly ring: MasterKeyRing,
    private readonly cache: SubjectKeyCache,
  ) {}

  /**
   * The data key of each subject as Redis holds it now, made for those that have none yet (to
   * encrypt a create with). One read for all subjects (an HMGET per hash, in parallel) whatever the
   * cache holds: a cached key of an erased subject would seal a returning guest's data under a key
   * that no longer exists. The cache only spares the unwrap when the stored key id matches.
   */
  async keysFor(subjects: readonly string[]): Promise<SubjectDataKey[]> {
    // A mission's own subject is new when its create seals it: straight to HSETNX, one round trip.
    const stored = await this.current(subjects.filter((subject) => !subject.startsWith(MISSION_SUBJECT_PREFIX)));
    return Promise.all(subjects.map((subject) => stored.get(subject) ?? this.make(subject)));
  }

  /**
   * The data key of each subject that has one in Redis now (to encrypt data that arrives after the
   * create with); absent when erased. One read, as keysFor, never the cache alone.
   */
  async currentKeys(subjects: readonly string[]): Promise<Map<string, SubjectDataKey>> {
    return this.current(subjects);
  }

  /**
   * The current data key of each subject that has one (to decrypt with); a subject without one
   * (erased, or never had data) is absent from the map. Nothing is created.
   */
  async existingKeys(subjects: readonly string[]): Promise<Map<string, SubjectDataKey>> {
    const found = new Map<string, SubjectDataKey>();
    await Promise.all(
      subjects.map(async (subject) => {
        const cached = this.cache.get(subject);
        if (cached) return found.set(subject, cached);
        const key = await this.read(subject);
        if (key) found.set(subject, key);
      }),
    );
    return found;
  }

  /**
   * Destroys the subject's data key (crypto-shredding: every field sealed with it is unreadable
   * from now on) and drops it from this process's cache at once. Whether there was one.
   */
  async destroy(subject: string): Promise<boolean> {
    this.cache.evict(subject);
    const removed = await this.redis.hdel(this.keys.subjectKeys(subject), subject);
    this.cache.evict(subject);
    return removed === 1;
  }

  /** Whether the subject has a data key now. */
  async has(subject: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.subjectKeys(subject), subject)) === 1;
  }

  /** Every stored record of one subject-key hash (see GuestDataKeys.subjectKeyHashes), wrapped as stored: for export. */
  async records(hash: string): Promise<Map<string, SubjectKeyRecord>> {
    const raw = await this.redis.hgetall(hash);
    return new Map(Object.entries(raw).map(([subject, json]) => [subject, parseRecord(subject, json)]));
  }

  /**
   * Stores a record as it was exported, unless the subject has a key already: for import. The
   * record must be wrapped under a master key of this ring. Whether it was stored.
   */
  async putRecord(subject: string, record: SubjectKeyRecord): Promise<boolean> {
    assertSubjectId(subject);
    this.ring.unwrap(subject, record.kid, record);
    return (await this.redis.hsetnx(this.keys.subjectKeys(subject), subject, JSON.stringify(record))) === 1;
  }

  /**
   * The ids of the master keys that a sample of the stored key records is wrapped under and this
   * ring lacks (sampledMasterKeyIds). A process whose master key is not the deployment's (every
   * record under another) is caught at once; one lacking a key that only a few records still need
   * may pass, and its requests for those fail with WrongMasterKeyError.
   */
  async masterKeysNotConfigured(): Promise<string[]> {
    return (await sampledMasterKeyIds(this.redis, this.keys)).filter((masterKeyId) => !this.ring.has(masterKeyId));
  }

  /**
   * Wraps every data key under the current master key, so the previous ones can be retired. A key
   * under a master key the ring lacks is skipped and named (notConfigured), the rest still rewrapped.
   */
  async rewrap(): Promise<RewrapResult> {
    const result: RewrapResult = { rewrapped: 0, current: 0, changed: 0, notConfigured: [] };
    for (const hash of this.keys.subjectKeyHashes) {
      const raw = await this.redis.hgetall(hash);
      for (const [subject, json] of Object.entries(raw)) {
        const record = parseRecord(subject, json);
        if (record.mk === this.ring.current.id) {
          result.current += 1;
          continue;
        }
        const dataKey = unwrappedOrSkipped(result, { owner: subject, kid: record.kid }, () => this.ring.unwrap(subject, record.kid, record));
        if (!dataKey) continue;
        const next: SubjectKeyRecord = { ...record, ...this.ring.wrap(subject, record.kid, dataKey) };
        if (await replaceIfUnchanged(this.redis, hash, subject, json, JSON.stringify(next))) result.rewrapped += 1;
        else result.changed += 1;
      }
    }
    return result;
  }

  /** The stored key of each subject that has one, unwrapped (or from the cache when its kid matches); the cache follows Redis. */
  private async current(subjects: readonly string[]): Promise<Map<string, SubjectDataKey>> {
    const byHash = new Map<string, string[]>();
    for (const subject of new Set(subjects)) {
      const hash = this.keys.subjectKeys(subject);
      byHash.set(hash, [...(byHash.get(hash) ?? []), subject]);
    }
    const found = new Map<string, SubjectDataKey>();
    const readAt = this.cache.mark();
    await Promise.all(
      [...byHash].map(async ([hash, names]) => {
        const stored = await this.redis.hmget(hash, ...names);
        names.forEach((subject, index) => {
          const json = stored[index];
          if (json === null) this.cache.evict(subject);
          else found.set(subject, this.unwrapped(subject, parseRecord(subject, json), readAt));
        });
      }),
    );
    return found;
  }

  /** The record's key, cached unless its subject was evicted since `readAt` (the cache's mark before the read). */
  private unwrapped(subject: string, record: SubjectKeyRecord, readAt: number): SubjectDataKey {
    const cached = this.cache.get(subject);
    if (cached?.kid === record.kid) return cached;
    const key = { subject, kid: record.kid, key: this.ring.unwrap(subject, record.kid, record) };
    this.cache.set(key, readAt);
    return key;
  }

  private async make(subject: string): Promise<SubjectDataKey> {
    assertSubjectId(subject);
    const hash = this.keys.subjectKeys(subject);
    // An erasure may destroy another process's key between our HSETNX and our read of it: the
    // subject then has no key again, and a new one is made, as for a create after the erasure.
    // Bounded: a subject erased as often as it is made would hold the request forever.
    for (let attempt = 1; attempt <= SUBJECT_KEY_MAKE_ATTEMPTS; attempt += 1) {
      const kid = guestDataRandom.take(8).toString('hex');
      const dataKey = guestDataRandom.copy(32);
      const record: SubjectKeyRecord = { kid, ...this.ring.wrap(subject, kid, dataKey), createdAt: new Date().toISOString() };
      const madeAt = this.cache.mark();
      if ((await this.redis.hsetnx(hash, subject, JSON.stringify(record))) === 1) {
        const made = { subject, kid, key: dataKey };
        this.cache.set(made, madeAt);
        return made;
      }
      // Another process made the subject's key first: use that one.
      const winner = await this.read(subject);
      if (winner) return winner;
    }
    throw new SubjectKeyContendedError(subject, SUBJECT_KEY_MAKE_ATTEMPTS);
  }

  private async read(subject: string): Promise<SubjectDataKey | undefined> {
    const readAt = this.cache.mark();
    const json = await this.redis.hget(this.keys.subjectKeys(subject), subject);
    return json === null ? undefined : this.unwrapped(subject, parseRecord(subject, json), readAt);
  }
}

function recordOrUndefined(subject: string, json: string): SubjectKeyRecord | undefined {
  try {
    return parseRecord(subject, json);
  } catch (error) {
    if (error instanceof GuestDataError && error.code === GuestDataErrorCode.UnknownFormat) return undefined;
    throw error;
  }
}

function parseRecord(subject: string, json: string): SubjectKeyRecord {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    value = undefined;
  }
  const record = value as Partial<SubjectKeyRecord> | undefined;
  if (
    !record ||
    typeof record.kid !== 'string' ||
    typeof record.wrapped !== 'string' ||
    typeof record.mk !== 'string' ||
    typeof record.createdAt !== 'string'
  ) {
    throw new GuestDataError(GuestDataErrorCode.UnknownFormat, `the stored data key of subject ${subject} is not a key record`);
  }
  return { kid: record.kid, wrapped: record.wrapped, mk: record.mk, createdAt: record.createdAt };
}
