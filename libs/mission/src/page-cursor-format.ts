/**
 * A page cursor of the mission list and the review inbox (their `nextCursor`, ctl's `--cursor`):
 * base64url JSON with one `{"s":<score>,"k":<passed>}` per log partition. At most 256 partitions
 * (LOG_PARTITIONS) of 44 characters each (both numbers at their widest, safe integers), commas and
 * brackets make 11,521 bytes, so 15,362 characters.
 */
export const MAX_PAGE_CURSOR_LENGTH = 15_362;

/** Where a page walk stopped in one log partition, as a cursor carries it: `s` is null for a partition not read yet (JSON has no Infinity). */
export interface PageCursorPosition {
  s: number | null;
  k: number;
}

export function formatPageCursor(positions: readonly PageCursorPosition[]): string {
  return Buffer.from(JSON.stringify(positions)).toString('base64url');
}

/**
 * The positions of `raw` when it is exactly what formatPageCursor writes: each score a whole
 * millisecond or null, each count of entries passed a safe integer from 0 (a forged `k` of 1e21
 * would reach Redis as a LIMIT offset it refuses); null for anything else. Whether it names as many
 * partitions as the deployment has is for the intake to check: the ctl, which checks the rest before
 * it asks, does not know.
 */
export function parsePageCursor(raw: string): PageCursorPosition[] | null {
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
  return Array.isArray(parsed) && parsed.length > 0 && parsed.every(valid) && formatPageCursor(parsed) === raw ? parsed : null;
}
