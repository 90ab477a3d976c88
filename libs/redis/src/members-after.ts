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
 * Up to `limit` members of `key` after `place` in a walk's order (`asc`: lowest score first, ties
 * by member as Redis orders them; `desc`: the reverse), down or up to the score `end` (a ZRANGE
 * BYSCORE bound), flat as WITHSCORES gives them: member, score, member, score, … A place names the
 * last member passed, not how many were passed at its score: when that member, or one tied with it
 * before it, leaves the set between two reads, a count would skip the next member, and one joining
 * the tie before it would be read twice. The members tied with it that sort after it are read
 * first (members are ids of ASCII characters, which JavaScript compares as Redis does), then those
 * past its score.
 */
export async function membersAfter(
  redis: RedisConnection,
  key: string,
  place: SortedSetPlace,
  walk: { order: 'asc' | 'desc'; end: string; limit: number },
): Promise<string[]> {
  const { score, member } = place;
  const at = scoreBound(score);
  const from = scoreBound(score, member !== null);
  // Sent in the same tick, the two reads go in one round trip (the connection pipelines them).
  const [tied, beyond] = await Promise.all(
    walk.order === 'asc'
      ? [member === null ? [] : redis.zrange(key, at, at, 'BYSCORE'), redis.zrange(key, from, walk.end, 'BYSCORE', 'LIMIT', 0, walk.limit, 'WITHSCORES')]
      : [
          member === null ? [] : redis.zrange(key, at, at, 'BYSCORE', 'REV'),
          redis.zrange(key, from, walk.end, 'BYSCORE', 'REV', 'LIMIT', 0, walk.limit, 'WITHSCORES'),
        ],
  );
  const after = member === null ? [] : tied.filter((candidate) => (walk.order === 'asc' ? candidate > member : candidate < member));
  return [...after.flatMap((candidate) => [candidate, String(score)]), ...beyond].slice(0, walk.limit * 2);
}

/** Where a walk over a whole sorted set starts: before its lowest score. */
const SORTED_SET_START: SortedSetPlace = { score: -Infinity, member: null };

/**
 * The members of `key` after `from` (by default from its start), lowest score first, up to the
 * score `end` (a ZRANGE BYSCORE bound), each with its score as text (as Redis writes it, or, for a
 * member tied with the last of the page before, as JavaScript writes the same number: the same
 * text for whole numbers such as times in ms): read `pageSize` at a time, one round trip a page,
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
      place = { score: Number(page[index + 1]), member: page[index] };
      yield [page[index], page[index + 1]];
    }
    if (page.length < walk.pageSize * 2) return;
  }
}
