import { BadRequestException } from '@nestjs/common';
import { formatPageCursor, MAX_SCANNED_PER_PAGE, MissionPage, openPageCursor, PAGE_CURSOR_NOT_ISSUED, parsePageCursor, sealPageCursor } from '@app/mission';
import { parseScore, SortedSetPlace } from '@app/redis';

/** Where a page walk stopped in one log partition's sorted set: the last mission passed (membersAfter). */
export type PageCursor = SortedSetPlace;

/**
 * The keys that seal the cursors of a caller who sees only some of the missions a walk passes (a
 * client key; ApiKeyStore.clientSealingKeys): the first seals, any opens. See sealPageCursor.
 */
export type CursorKeys = readonly Buffer[];

/**
 * One cursor per log partition (formatPageCursor: an unread partition's infinite score goes out as
 * null), bound to its list and filters; sealed under `keys[0]` when keys are given.
 */
export function encodeCursor(cursors: PageCursor[], binding: string, keys?: CursorKeys): string {
  const cursor = formatPageCursor(
    binding,
    cursors.map(({ score, member }) => ({ s: Number.isFinite(score) ? score : null, m: member })),
  );
  return keys ? sealPageCursor(cursor, keys[0]) : cursor;
}

export const OTHER_LIST = 'cursor is the nextCursor of another list or of other filters: start again without a cursor, or send the filters it was issued with';

/**
 * Only a cursor this API issued for this list and these filters (`binding`, cursorBinding): the
 * exact bytes encodeCursor writes (parsePageCursor) for one position per partition, null standing
 * for `unread`, the walk's start (+Infinity newest first, -Infinity oldest first), sealed under one
 * of `keys` when they are given. Anything else is a 400, which says to start again without a cursor.
 */
export function decodeCursor(raw: string, partitions: number, unread: number, binding: string, keys?: CursorKeys): PageCursor[] {
  const opened = keys ? openPageCursor(raw, keys) : raw;
  const parsed = opened === undefined ? null : parsePageCursor(opened);
  if (parsed?.positions.length !== partitions) throw new BadRequestException(PAGE_CURSOR_NOT_ISSUED);
  if (parsed.binding !== binding) throw new BadRequestException(OTHER_LIST);
  return parsed.positions.map((position) => ({ score: position.s ?? unread, member: position.m }));
}

const SCAN_BATCH = 200;

/** A walk over one sorted set per log partition, merged into one order. */
export interface PartitionWalk<T> {
  /** `desc`: highest score first; `asc`: lowest first. */
  order: 'asc' | 'desc';
  /** Up to `count` members of partition `index`'s set after `cursor`, in walk order, flat: id, score, id, score, … (membersAfter) */
  read(index: number, cursor: PageCursor, count: number): Promise<string[]>;
  /** The items of these ids, `scores[i]` the score of `ids[i]` in its set (null for one that is gone). */
  load(ids: string[], scores: number[]): Promise<(T | null)[]>;
  matches(item: T): boolean;
  limit: number;
  /**
   * How many members one read takes from a partition, SCAN_BATCH unless given. A walk whose every
   * item matches needs about `limit` / partitions from each, and loads every member it reads.
   */
  batch?: number;
  /** What the cursors it issues are bound to (cursorBinding). */
  binding: string;
  /** The keys that seal the cursors it issues, for a caller who does not see every item it passes. */
  cursorKeys?: CursorKeys;
}

interface Lane<T> {
  index: number;
  cursor: PageCursor;
  buffer: { place: PageCursor; item: T | null }[];
  exhausted: boolean;
}

/**
 * One page of a merge of the partitions' sorted sets, each read in batches from its own cursor
 * (`cursors`, one per partition) with the items loaded per batch and filtered; the next cursor
 * marks where the walk stopped in each partition, so pages are stable while new members arrive.
 * A full page has a next cursor only when the walk finds one more matching item after it (or stops
 * at MAX_SCANNED_PER_PAGE before it can tell): the last page comes without one, never followed by
 * an empty page.
 */
export async function walkPartitions<T>(cursors: PageCursor[], walk: PartitionWalk<T>): Promise<MissionPage<T>> {
  const lanes: Lane<T>[] = cursors.map((cursor, index) => ({ index, cursor, buffer: [], exhausted: false }));
  const first = (a: number, b: number) => (walk.order === 'desc' ? a > b : a < b);
  const items: T[] = [];
  /** Where each partition's walk stood right after the page's last item, once the page is full. */
  let pageEnd: PageCursor[] | undefined;
  let scanned = 0;
  while (scanned < MAX_SCANNED_PER_PAGE) {
    await Promise.all(lanes.filter((lane) => lane.buffer.length === 0 && !lane.exhausted).map((lane) => refill(lane, walk)));
    const lane = lanes.reduce<Lane<T> | null>(
      (best, candidate) => (candidate.buffer.length > 0 && (!best || first(candidate.buffer[0].place.score, best.buffer[0].place.score)) ? candidate : best),
      null,
    );
    if (!lane) return { items };
    const entry = lane.buffer.shift() as Lane<T>['buffer'][number];
    scanned += 1;
    lane.cursor = entry.place;
    if (entry.item === null || !walk.matches(entry.item)) continue;
    // One matching item past a full page: there is a next page, and it starts with this item.
    if (pageEnd) return { items, nextCursor: encodeCursor(pageEnd, walk.binding, walk.cursorKeys) };
    items.push(entry.item);
    if (items.length === walk.limit) pageEnd = lanes.map((candidate) => candidate.cursor);
  }
  const more = lanes.some((lane) => lane.buffer.length > 0 || !lane.exhausted);
  return more ? { items, nextCursor: encodeCursor(pageEnd ?? lanes.map((lane) => lane.cursor), walk.binding, walk.cursorKeys) } : { items };
}

/** The next batch of one partition's set after its cursor, with the items. */
async function refill<T>(lane: Lane<T>, walk: PartitionWalk<T>): Promise<void> {
  const batch = walk.batch ?? SCAN_BATCH;
  const entries = await walk.read(lane.index, lane.cursor, batch);
  const ids = entries.filter((_, i) => i % 2 === 0);
  const scores = ids.map((_, i) => parseScore(entries[i * 2 + 1]));
  const loaded = await walk.load(ids, scores);
  lane.buffer = ids.map((member, i) => ({ place: { score: scores[i], member }, item: loaded[i] }));
  lane.exhausted = ids.length < batch;
}
