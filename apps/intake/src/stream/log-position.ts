import { hasSealedShape, openSealedBytes, sealBytes } from '@app/mission';

/** A Redis stream entry id, `<ms>-<seq>`. */
const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;
/** The largest part of an entry id Redis takes: each is an unsigned 64-bit integer. */
const MAX_PART = 2n ** 64n - 1n;
/** Between the partitions' entry ids in a position; never part of an entry id. */
const SEPARATOR = '.';

/**
 * Where a reader of the partitioned log stands: for each log partition (by index), the id of the
 * last entry it has seen ('0-0' for none). The log has one stream per partition (LOG_PARTITIONS),
 * so one entry id cannot say where a reader is; the whole vector is the live stream's event id,
 * which a client sends back as `Last-Event-ID` to resume.
 */
export type LogPosition = string[];

export function formatPosition(position: LogPosition): string {
  return position.join(SEPARATOR);
}

/** The format byte of a sealed position (sealPosition). */
const SEALED_POSITION_FORMAT = 4;

/**
 * `position` encrypted under `key`, for a client key's stream: the position covers every event of
 * the log, so in plain each id it is sent would tell when other keys' missions changed; sealed it
 * tells nothing, and only that key opens it to resume (openPosition).
 */
export function sealPosition(position: LogPosition, key: Buffer): string {
  return sealBytes(SEALED_POSITION_FORMAT, Buffer.from(formatPosition(position)), key);
}

/** The position text `raw` seals when one of `keys` sealed it (sealPosition), undefined for anything else. */
export function openPosition(raw: string, keys: readonly Buffer[], maxLength: number): string | undefined {
  return hasSealedShape(SEALED_POSITION_FORMAT, raw, maxLength) ? openSealedBytes(SEALED_POSITION_FORMAT, raw, keys)?.toString() : undefined;
}

/** The position a client sent, or why it is not one of this deployment's (another LOG_PARTITIONS, or not a position at all). */
export function parsePosition(text: string, partitions: number): LogPosition | { problem: string } {
  const ids = text.trim().split(SEPARATOR);
  if (!ids.every(isResumableEntryId)) return { problem: 'Last-Event-ID is not a stream position: expected <ms>-<seq> per log partition, joined by "."' };
  if (ids.length !== partitions) {
    return { problem: `Last-Event-ID holds ${ids.length} partition positions; this deployment has LOG_PARTITIONS=${partitions}` };
  }
  return ids;
}

/**
 * An entry id Redis can read after: each part within 64 bits (Redis refuses a larger one), and not
 * the largest id of all, after which no entry can come (Redis refuses that exclusive start too).
 */
function isResumableEntryId(id: string): boolean {
  if (!ENTRY_ID.test(id)) return false;
  const [ms, seq] = id.split('-').map(BigInt);
  return ms <= MAX_PART && seq <= MAX_PART && !(ms === MAX_PART && seq === MAX_PART);
}

/**
 * Why a client cannot resume from `position` on a log whose partitions end at `head` (their last
 * entries, read as the stream opens), or null: an id past its partition's last entry is one this
 * log never issued (another deployment's position, or a damaged one), and a stream from there would
 * stay silent until the clock passed it, losing every event meanwhile. At or below the head is
 * fine; entries appended since only move the head on.
 */
export function beyondHead(position: LogPosition, head: LogPosition): string | null {
  const partition = position.findIndex((id, index) => compareEntryIds(id, head[index] ?? '0-0') > 0);
  if (partition < 0) return null;
  return `Last-Event-ID is past the end of the log (partition ${partition} ends at ${head[partition] ?? '0-0'}): not a position of this deployment's log`;
}

/** Orders two entry ids as Redis does (by time, then sequence). */
export function compareEntryIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}
