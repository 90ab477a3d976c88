import { join } from 'node:path';
import { LuaScript } from './lua-script';
import { RedisConnection } from './redis-connection';

/**
 * Where a walk over a sorted set stands: the last member it passed and that member's score, or
 * (`member` null) a score it has not passed any member of yet, where it starts, that score included.
 */
export interface SortedSetPlace {
  score: number;
  member: string | null;
}

/** A score as ZRANGE BYSCORE reads it, `(` before it for an exclusive bound. */
export function scoreBound(score: number, exclusive = false): string {
  const text = score === Infinity ? '+inf' : score === -Infinity ? '-inf' : String(score);
  return exclusive ? `(${text}` : text;
}

/**
 * A score as Redis writes it (ZRANGE … WITHSCORES, ZSCORE) as a number: Redis writes the infinite
 * scores `inf` and `-inf`, which Number() reads as NaN, and a place at NaN named no valid bound.
 */
export function parseScore(text: string): number {
  const infinite = /^([+-]?)inf$/i.exec(text);
  if (infinite) return infinite[1] === '-' ? -Infinity : Infinity;
  return Number(text);
}

/**
 * Whether `score` lies within the ZRANGE BYSCORE bound `end` of a walk in `order` (up to it for
 * `asc`, down to it for `desc`; `(` before it for an exclusive bound).
 */
export function withinEnd(score: number, end: string, order: 'asc' | 'desc'): boolean {
  const exclusive = end.startsWith('(');
  const bound = parseScore(exclusive ? end.slice(1) : end);
  if (score === bound) return !exclusive;
  return order === 'asc' ? score < bound : score > bound;
}

const membersAfterScript = new LuaScript(join(__dirname, 'lua'), 'members-after-1');

/**
 * Up to `limit` members of `key` after `place` in a walk's order (`asc`: lowest score first, ties
 * by member as Redis orders them, byte by byte; `desc`: the reverse), down or up to the score
 * `end` (a ZRANGE BYSCORE bound; no member beyond it, tied with the place or not), flat as
 * WITHSCORES gives them: member, score, member, score, …, every score as Redis writes it. A place
 * names the last member passed, not how many were passed at its score: when that member, or one
 * tied with it before it, leaves the set between two reads, a count would skip the next member,
 * and one joining the tie before it would be read twice. One script run a page
 * (members-after-1.lua): the members tied with the place are found by rank, not read whole, so a
 * page costs the same inside a tie group of any size.
 */
export async function membersAfter(
  redis: RedisConnection,
  key: string,
  place: SortedSetPlace,
  walk: { order: 'asc' | 'desc'; end: string; limit: number },
): Promise<string[]> {
  const args = [walk.order, scoreBound(place.score), place.member === null ? '0' : '1', place.member ?? '', walk.end, walk.limit];
  return (await membersAfterScript.run(redis, [key], args)) as string[];
}

/** Where a walk over a whole sorted set starts: before its lowest score. */
const SORTED_SET_START: SortedSetPlace = { score: -Infinity, member: null };

/**
 * The members of `key` after `from` (by default from its start), lowest score first, up to the
 * score `end` (a ZRANGE BYSCORE bound), each with its score as text, as Redis writes it (as
 * ZSCORE gives it too): read `pageSize` at a time, one round trip a page,
 * each page after the last member of the one before (membersAfter).
 * A walk that removes members as it goes, or whose members others remove meanwhile, so skips none:
 * a page read by offset skipped one for each member removed before it. The next page is read
 * once the one before has been walked through, so a caller that stops early reads no more.
 */
export async function* membersInOrder(
  redis: RedisConnection,
  key: string,
  walk: { end: string; pageSize: number; from?: SortedSetPlace },
): AsyncGenerator<[member: string, score: string]> {
  let place = walk.from ?? SORTED_SET_START;
  for (;;) {
    // Member, score, member, score…
    const page = await membersAfter(redis, key, place, { order: 'asc', end: walk.end, limit: walk.pageSize });
    for (let index = 0; index + 1 < page.length; index += 2) {
      place = { score: parseScore(page[index + 1]), member: page[index] };
      yield [page[index], page[index + 1]];
    }
    if (page.length < walk.pageSize * 2) return;
  }
}
