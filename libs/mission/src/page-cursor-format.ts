import { createHash } from 'node:crypto';

/**
 * A page cursor of the mission list and the review inbox (their `nextCursor`, ctl's `--cursor`):
 * base64url JSON `{"f":<binding>,"p":[…]}`, the binding (PAGE_CURSOR_BINDING_LENGTH base64url
 * characters: which list and filters it pages, see the intake's cursorBinding) and one
 * `{"s":<score>,"k":<passed>}` per log partition. At most 256 partitions (LOG_PARTITIONS) of 44
 * characters each (both numbers at their widest, safe integers), commas and brackets make 11,521
 * bytes, and the object around them with its binding 25 more: 11,546 bytes, so 15,395 characters.
 */
export const MAX_PAGE_CURSOR_LENGTH = 15_395;

/** The length of a cursor's binding: 72 bits of a hash, in base64url. */
export const PAGE_CURSOR_BINDING_LENGTH = 12;
const BINDING = new RegExp(`^[A-Za-z0-9_-]{${PAGE_CURSOR_BINDING_LENGTH}}$`);

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

/** Where a page walk stopped in one log partition, as a cursor carries it: `s` is null for a partition not read yet (JSON has no Infinity). */
export interface PageCursorPosition {
  s: number | null;
  k: number;
}

/** What a cursor carries: the list and filters it was issued for (`binding`), and where each partition's walk stopped. */
export interface PageCursorContent {
  binding: string;
  positions: PageCursorPosition[];
}

export function formatPageCursor(binding: string, positions: readonly PageCursorPosition[]): string {
  return Buffer.from(JSON.stringify({ f: binding, p: positions })).toString('base64url');
}

/**
 * The binding and positions of `raw` when it is exactly what formatPageCursor writes: a binding of
 * PAGE_CURSOR_BINDING_LENGTH base64url characters, each score a whole millisecond or null, each
 * count of entries passed a safe integer from 0 (a forged `k` of 1e21 would reach Redis as a LIMIT
 * offset it refuses); null for anything else, a cursor of an intake before bindings among them.
 * Whether it names as many partitions as the deployment has, and the list and filters it is sent
 * with, is for the intake to check: the ctl, which checks the rest before it asks, does not know.
 */
export function parsePageCursor(raw: string): PageCursorContent | null {
  if (raw.length === 0 || raw.length > MAX_PAGE_CURSOR_LENGTH) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const valid = (position: unknown): position is PageCursorPosition => {
    if (typeof position !== 'object' || position === null || Object.keys(position).join() !== 's,k') return false;
    const { s, k } = position as Record<string, unknown>;
    return (s === null || Number.isSafeInteger(s)) && Number.isSafeInteger(k) && (k as number) >= 0;
  };
  if (typeof parsed !== 'object' || parsed === null || Object.keys(parsed).join() !== 'f,p') return null;
  const { f: binding, p: positions } = parsed as Record<string, unknown>;
  if (typeof binding !== 'string' || !BINDING.test(binding)) return null;
  if (!Array.isArray(positions) || positions.length === 0 || !positions.every(valid)) return null;
  return formatPageCursor(binding, positions) === raw ? { binding, positions } : null;
}
