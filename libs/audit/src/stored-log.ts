import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { RedisConnection } from '@app/redis';

/** One log entry exactly as stored: fields `m <missionId> e <event JSON>`. */
export interface StoredEntry {
  logId: string;
  missionId: string;
  /** The event JSON byte for byte as stored; '' when the entry has no `e` field. */
  json: string;
  /**
   * Why the entry is not as the append script writes it, exactly `m <id> e <json>` with the JSON in
   * UTF-8: a reader takes the first `e` and a hash the bytes, so an entry of any other shape could
   * show one event and verify another.
   */
  malformed?: string;
}

/** What an entry with these field names lacks or has too much, or undefined for `m`, `e`. */
function shapeProblem(names: readonly string[]): string | undefined {
  return names.length === 2 && names[0] === 'm' && names[1] === 'e'
    ? undefined
    : `the log entry has the fields ${names.join(', ') || 'none'}, not m and e (each once, in that order)`;
}

/** A stored event's JSON, parsed but not yet upcast. */
export type StoredObject = Record<string, unknown>;

/** Batch size of one XRANGE while walking the log. */
export const DEFAULT_LOG_BATCH = 5_000;

/** SHA-1 hex over the UTF-8 bytes of `text`: what `redis.sha1hex` computes over the stored string. */
export function sha1Hex(text: string): string {
  // One-shot crypto.hash (Node >= 20.12) is about twice as fast as createHash for short inputs.
  return hash('sha1', text, 'hex');
}

/** The parsed object, or null when the stored text is not a JSON object. */
export function parseStored(json: string): StoredObject | null {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as StoredObject) : null;
  } catch {
    return null;
  }
}

export function toStoredEntry(logId: string, fields: readonly string[]): StoredEntry {
  let missionId = '';
  let json = '';
  const names: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    names.push(fields[i]);
    if (fields[i] === 'm') missionId ||= fields[i + 1];
    else if (fields[i] === 'e') json ||= fields[i + 1];
  }
  const malformed = shapeProblem(names);
  return malformed ? { logId, missionId, json, malformed } : { logId, missionId, json };
}

/** The field names of a log entry, as bytes: `m` (mission id) and `e` (event JSON). */
const MISSION_FIELD = 'm'.charCodeAt(0);
const EVENT_FIELD = 'e'.charCodeAt(0);

/**
 * `toStoredEntry` over the entry as raw bytes (XRANGE's `…Buffer` reply): only the id, the mission
 * id and the event JSON become strings, not the field names: two of the five decodes per entry,
 * short ones, but each a call and a string. Decoded as UTF-8 like ioredis decodes a string reply,
 * so the result is the same.
 */
export function bytesToStoredEntry(logId: Buffer, fields: readonly Buffer[]): StoredEntry {
  const id = logId.toString('latin1');
  // The shape the append script writes, checked on the bytes: only other shapes pay for more.
  if (fields.length === 4 && fields[0].length === 1 && fields[0][0] === MISSION_FIELD && fields[2].length === 1 && fields[2][0] === EVENT_FIELD) {
    const event = fields[3];
    const entry = { logId: id, missionId: fields[1].toString('utf8'), json: event.toString('utf8') };
    // Decoding replaces a byte that is no UTF-8 with U+FFFD: the hash would cover other bytes than those stored.
    return isUtf8(event) ? entry : { ...entry, malformed: 'the stored event is not valid UTF-8' };
  }
  return toStoredEntry(
    id,
    fields.map((field) => field.toString('utf8')),
  );
}

/**
 * Walks the log in order, one XRANGE of `batchSize` per batch, fetching the next batch while the
 * caller works on the current one. Remembers where it stopped, so a later `batches()` call reads
 * only what was appended since (catching up with a live log).
 */
export class LogCursor {
  private lastId: string | null = null;
  /** Entries read so far. */
  count = 0;

  constructor(
    private readonly redis: RedisConnection,
    private readonly log: string,
    private readonly batchSize = DEFAULT_LOG_BATCH,
    /** Inclusive upper bound (a log entry id), '+' for the end of the log. */
    private readonly end = '+',
  ) {}

  /** Id of the last entry read; null before the first. */
  get position(): string | null {
    return this.lastId;
  }

  async *batches(): AsyncGenerator<StoredEntry[]> {
    let pending = this.fetch(this.lastId === null ? '-' : `(${this.lastId}`);
    for (;;) {
      const entries = await pending;
      if (entries.length === 0) return;
      this.lastId = entries[entries.length - 1].logId;
      this.count += entries.length;
      const full = entries.length === this.batchSize;
      if (full) pending = this.fetch(`(${this.lastId}`);
      yield entries;
      if (!full) return;
    }
  }

  private fetch(start: string): Promise<StoredEntry[]> {
    const request = this.redis
      .xrangeBuffer(this.log, start, this.end, 'COUNT', this.batchSize)
      .then((entries) => (entries as [Buffer, Buffer[]][]).map(([id, fields]) => bytesToStoredEntry(id, fields)));
    // A prefetch the caller never awaits (it stopped early) must not become an unhandled rejection.
    request.catch(() => undefined);
    return request;
  }
}
