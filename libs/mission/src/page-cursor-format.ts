import { createHash } from 'node:crypto';
import { MISSION_ID_PATTERN } from './mission-id-pattern';
import { hasSealedShape, openSealedBytes, SEALED_OVERHEAD_BYTES, sealBytes } from './sealed-bytes';

/**
 * A page cursor of the mission list and the review inbox (their `nextCursor`, ctl's `--cursor`):
 * base64url bytes, a format byte (PAGE_CURSOR_FORMAT), the binding (PAGE_CURSOR_BINDING_LENGTH
 * base64url characters as the 9 bytes they stand for: which list and filters it pages, see the
 * intake's cursorBinding) and one position per log partition: a tag byte (Tag), then the score
 * as a signed 64-bit integer when it has one, then the last mission passed as its UUID's 16 bytes
 * when it names one. In bytes and not JSON since a position names a mission: at most 256
 * partitions (LOG_PARTITIONS) of 25 bytes and the 10 before them make 6,410 bytes, 8,547
 * characters, well within the 16 KiB a request line may have; as JSON they were past it. A sealed
 * cursor (sealPageCursor) adds 29 bytes: 6,439 bytes, 8,586 characters.
 */
export const MAX_PAGE_CURSOR_LENGTH = base64urlLength(SEALED_OVERHEAD_BYTES + 1 + 9 + 256 * (1 + 8 + 16));

/**
 * The format byte. A cursor of an intake before it (JSON: `{` first, `{"s":…,"k":…}` positions
 * that counted the entries passed at a score) is no cursor of this format: refused, not misread.
 */
const PAGE_CURSOR_FORMAT = 2;

/** The format byte of a sealed cursor: a client key's, whose walk passes missions it may not see (sealPageCursor). */
const SEALED_PAGE_CURSOR_FORMAT = 3;

/** What a position holds after its tag byte. */
enum Tag {
  /** A partition not read yet: nothing. */
  Unread = 0,
  /** A score where the walk starts, that score included (a list's `createdTo`): the score. */
  Score = 1,
  /** The last mission passed: the score, the id. */
  Member = 2,
}

/** The length of a cursor's binding: 72 bits of a hash, in base64url. */
export const PAGE_CURSOR_BINDING_LENGTH = 12;
const BINDING_BYTES = (PAGE_CURSOR_BINDING_LENGTH * 3) / 4;
const SCORE_BYTES = 8;
const ID_BYTES = 16;
const MISSION_ID = new RegExp(MISSION_ID_PATTERN);

function base64urlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

/** The 400 of a cursor the API did not issue. */
export const PAGE_CURSOR_NOT_ISSUED = 'cursor is not a cursor this API issued: start again without a cursor';

/**
 * What a cursor is bound to: a hash of the list it pages (`route`, e.g. `GET /api/missions`) and
 * its filters as the walk reads them (`filters`, normalized: left-out ones dropped, times as
 * milliseconds, text as it is compared), so that a cursor sent to another list or with other
 * filters is refused instead of going on with a walk it was not made for. The page size is no
 * filter: it may change from page to page.
 */
export function cursorBinding(route: string, filters: Record<string, string | number | undefined>): string {
  const kept = Object.entries(filters)
    .filter(([, value]) => value !== undefined && value !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify([route, kept]))
    .digest('base64url')
    .slice(0, PAGE_CURSOR_BINDING_LENGTH);
}

/**
 * Where a page walk stopped in one log partition, as a cursor carries it: `s` the score of the last
 * mission passed, `m` its id; `m` null for a score not passed yet, where the walk starts; both null
 * for a partition not read yet (the walk's own start).
 */
export interface PageCursorPosition {
  s: number | null;
  m: string | null;
}

/** What a cursor carries: the list and filters it was issued for (`binding`), and where each partition's walk stopped. */
export interface PageCursorContent {
  binding: string;
  positions: PageCursorPosition[];
}

/** The cursor of these positions; a score that is no safe integer, or an id that is no mission id, is a bug of the caller. */
export function formatPageCursor(binding: string, positions: readonly PageCursorPosition[]): string {
  const parts = [Buffer.of(PAGE_CURSOR_FORMAT), Buffer.from(binding, 'base64url')];
  for (const { s, m } of positions) {
    if (s === null) {
      parts.push(Buffer.of(Tag.Unread));
      continue;
    }
    if (!Number.isSafeInteger(s) || (m !== null && !MISSION_ID.test(m))) throw new Error(`no page cursor position: ${JSON.stringify({ s, m })}`);
    const score = Buffer.alloc(SCORE_BYTES);
    score.writeBigInt64BE(BigInt(s));
    parts.push(Buffer.of(m === null ? Tag.Score : Tag.Member), score);
    if (m !== null) parts.push(Buffer.from(m.replace(/-/g, ''), 'hex'));
  }
  return Buffer.concat(parts).toString('base64url');
}

/**
 * The binding and positions of `raw` when it is exactly what formatPageCursor writes: this
 * format, a binding, and positions each with a known tag, a safe-integer score and a mission id;
 * null for anything else, a cursor of an older intake among them (JSON, without a binding or
 * counting entries passed). Whether it names as many partitions as the deployment has, and the
 * list and filters it is sent with, is for the intake to check: the ctl, which checks the rest
 * before it asks, does not know.
 */
export function parsePageCursor(raw: string): PageCursorContent | null {
  if (raw.length === 0 || raw.length > MAX_PAGE_CURSOR_LENGTH) return null;
  const bytes = Buffer.from(raw, 'base64url');
  if (bytes.length <= 1 + BINDING_BYTES || bytes[0] !== PAGE_CURSOR_FORMAT) return null;
  const binding = bytes.subarray(1, 1 + BINDING_BYTES).toString('base64url');
  const positions: PageCursorPosition[] = [];
  for (let at = 1 + BINDING_BYTES; at < bytes.length;) {
    const tag = bytes[at];
    at += 1;
    if (tag === Tag.Unread) {
      positions.push({ s: null, m: null });
      continue;
    }
    if ((tag !== Tag.Score && tag !== Tag.Member) || at + SCORE_BYTES > bytes.length) return null;
    const score = bytes.readBigInt64BE(at);
    at += SCORE_BYTES;
    if (score > BigInt(Number.MAX_SAFE_INTEGER) || score < BigInt(-Number.MAX_SAFE_INTEGER)) return null;
    if (tag === Tag.Score) {
      positions.push({ s: Number(score), m: null });
      continue;
    }
    if (at + ID_BYTES > bytes.length) return null;
    const hex = bytes.subarray(at, at + ID_BYTES).toString('hex');
    at += ID_BYTES;
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    positions.push({ s: Number(score), m: id });
  }
  // Only the exact characters formatPageCursor writes: no other base64url spelling of the same bytes.
  return formatPageCursor(binding, positions) === raw ? { binding, positions } : null;
}

/**
 * `cursor` (formatPageCursor's) encrypted under `key` (32 bytes): for a caller that may see only
 * some missions (a client key), whose walk stops at missions of others. In plain, its positions
 * would name them, their ids and, a UUIDv7's first bytes, when they were made; sealed, a cursor
 * tells its holder nothing, and only the key that sealed it opens it.
 */
export function sealPageCursor(cursor: string, key: Buffer): string {
  return sealBytes(SEALED_PAGE_CURSOR_FORMAT, Buffer.from(cursor, 'base64url'), key);
}

/**
 * The cursor `raw` seals when one of `keys` sealed it (sealPageCursor), undefined for anything else:
 * a cursor in plain, sealed under another key, changed, or no cursor at all.
 */
export function openPageCursor(raw: string, keys: readonly Buffer[]): string | undefined {
  return isSealedPageCursor(raw) ? openSealedBytes(SEALED_PAGE_CURSOR_FORMAT, raw, keys)?.toString('base64url') : undefined;
}

/** Whether `raw` has a sealed cursor's shape (sealPageCursor): what someone without the key, the ctl, can check of it. */
export function isSealedPageCursor(raw: string): boolean {
  return hasSealedShape(SEALED_PAGE_CURSOR_FORMAT, raw, MAX_PAGE_CURSOR_LENGTH, 1 + BINDING_BYTES);
}
