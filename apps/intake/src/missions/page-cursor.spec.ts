import { BadRequestException } from '@nestjs/common';
import fc from 'fast-check';
import { cursorBinding, PAGE_CURSOR_NOT_ISSUED } from '@app/mission';
import { RequestValidationPipe } from '../http/request-validation.pipe';
import { ReviewInboxQuery } from '../reviews/review-inbox.query';
import { ListMissionsQuery } from './list-missions.query';
import { decodeCursor, encodeCursor, OTHER_LIST, PageCursor, PartitionWalk, walkPartitions } from './page-cursor';

const BINDING = cursorBinding('GET /api/test', {});
/** A mission id (a lowercase UUID) that sorts by `partition` then `index`. */
const idOf = (partition: number, index: number) => `${String(partition).padStart(8, '0')}-0000-4000-8000-${String(index).padStart(12, '0')}`;
const WIDEST: PageCursor = { score: -Number.MAX_SAFE_INTEGER, member: 'ffffffff-ffff-ffff-ffff-ffffffffffff' };

const pipe = new RequestValidationPipe();
const asQuery = (metatype: typeof ListMissionsQuery | typeof ReviewInboxQuery, query: Record<string, string>) =>
  pipe.transform(query, { type: 'query', metatype });

describe('page cursors through the query validation', () => {
  it.each([6, 256])(
    'given the widest cursor the API issues for %i log partitions, when it comes back as ?cursor=, then both lists take it and it decodes',
    async (partitions) => {
      const widest: PageCursor[] = Array.from({ length: partitions }, () => WIDEST);
      const cursor = encodeCursor(widest, cursorBinding('GET /api/missions', { status: 'dead_lettered', title: 'x'.repeat(200) }));

      // It was refused past 200 characters: with 6 partitions or more, no list had a second page. Within a request line's 16 KiB too.
      expect(cursor.length).toBeLessThan(16_384 - 300);
      await expect(asQuery(ListMissionsQuery, { cursor })).resolves.toMatchObject({ cursor });
      await expect(asQuery(ReviewInboxQuery, { cursor })).resolves.toMatchObject({ cursor });
      expect(decodeCursor(cursor, partitions, Infinity, cursorBinding('GET /api/missions', { title: 'x'.repeat(200), status: 'dead_lettered' }))).toEqual(
        widest,
      );
    },
  );

  it('given a cursor longer than any the API issues, or not base64url, then it is a 400', async () => {
    // 258: a sealed cursor of 256 partitions (a client key's) is as long as a plain one of 257.
    const tooLong = encodeCursor(
      Array.from({ length: 258 }, () => WIDEST),
      BINDING,
    );
    await expect(asQuery(ListMissionsQuery, { cursor: tooLong })).rejects.toBeInstanceOf(BadRequestException);
    await expect(asQuery(ListMissionsQuery, { cursor: 'not a cursor' })).rejects.toBeInstanceOf(BadRequestException);
  });
});

interface Member {
  id: string;
  score: number;
  /** Matches the page's filter. */
  wanted: boolean;
  /** Still in the set but its item is gone (load gives null). */
  gone: boolean;
}

/** Sorted sets as Redis keeps them: by score, then by member, read after a cursor's place as membersAfter does. */
function setsWalk(sets: Member[][], order: 'asc' | 'desc', limit: number): PartitionWalk<Member> {
  const byId = new Map(sets.flat().map((member) => [member.id, member]));
  const sign = order === 'asc' ? 1 : -1;
  return {
    order,
    limit,
    read: (index, cursor, count) =>
      Promise.resolve(
        sets[index]
          .filter((member) => {
            const past = sign * (member.score - cursor.score);
            return past > 0 || (past === 0 && (cursor.member === null || sign * (member.id < cursor.member ? -1 : member.id > cursor.member ? 1 : 0) > 0));
          })
          .sort((a, b) => sign * (a.score - b.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))
          .slice(0, count)
          .flatMap((member) => [member.id, String(member.score)]),
      ),
    load: (ids) => Promise.resolve(ids.map((id) => (byId.get(id)?.gone ? null : (byId.get(id) ?? null)))),
    matches: (member) => member.wanted,
    binding: BINDING,
  };
}

describe('cursors bound to their list and filters (cursorBinding)', () => {
  const missions = cursorBinding('GET /api/missions', { type: undefined, status: undefined });
  const position: PageCursor = { score: 1_746_091_800_000, member: idOf(0, 1) };
  const cursor = encodeCursor([position], missions);

  it('given the nextCursor of a list, then the same list with the same filters takes it, whatever their order or the left-out ones', () => {
    expect(decodeCursor(cursor, 1, Infinity, cursorBinding('GET /api/missions', {}))).toEqual([position]);
    expect(cursorBinding('GET /api/missions', { type: 'pricing', status: 'queued' })).toBe(
      cursorBinding('GET /api/missions', { status: 'queued', type: 'pricing' }),
    );
  });

  // A cursor of an unfiltered list went on with `type=pricing`, and one of /api/reviews was taken by /api/missions.
  it.each([
    ['another filter', cursorBinding('GET /api/missions', { type: 'pricing' })],
    ['another list', cursorBinding('GET /api/reviews', {})],
    ['another list with a filter', cursorBinding('GET /api/reviews', { type: 'maintenance' })],
  ])('given the nextCursor of an unfiltered mission list sent with %s, then it is a 400 saying to start again without a cursor', (_what, binding) => {
    expect(() => decodeCursor(cursor, 1, Infinity, binding)).toThrow(new BadRequestException(OTHER_LIST));
    expect(OTHER_LIST).toMatch(/start again without a cursor/);
  });

  it('given a cursor of an intake before bindings (a bare array of positions), then it is a 400 saying to start again without a cursor', () => {
    const unbound = Buffer.from(JSON.stringify([{ s: 1_746_091_800_000, k: 1 }])).toString('base64url');
    expect(() => decodeCursor(unbound, 1, Infinity, missions)).toThrow(new BadRequestException(PAGE_CURSOR_NOT_ISSUED));
  });

  // It counted the entries passed at a score, so a shown mission leaving the inbox made the next page skip one.
  it('given a cursor of an intake before cursors named the last mission passed ({s, k} per partition), then it is a 400 saying to start again without a cursor', () => {
    const counted = Buffer.from(JSON.stringify({ f: missions, p: [{ s: 1_746_091_800_000, k: 1 }] })).toString('base64url');
    expect(() => decodeCursor(counted, 1, Infinity, missions)).toThrow(new BadRequestException(PAGE_CURSOR_NOT_ISSUED));
  });
});

describe('paging a merge of partitions (walkPartitions)', () => {
  const member = fc.record({ score: fc.integer({ min: 0, max: 30 }), wanted: fc.boolean(), gone: fc.boolean() }, { requiredKeys: ['score', 'wanted', 'gone'] });
  const sets = fc
    .array(fc.array(member, { maxLength: 250, size: 'max' }), { minLength: 1, maxLength: 4 })
    .map((partitions) => partitions.map((members, index) => members.map((entry, i) => ({ ...entry, id: idOf(index, i) }))));

  it('given any members in any partitions and any page size, then the pages give every matching item once, in order, and no empty page follows a nextCursor', async () => {
    await fc.assert(
      fc.asyncProperty(sets, fc.integer({ min: 1, max: 60 }), fc.constantFrom<'asc' | 'desc'>('asc', 'desc'), async (partitions, limit, order) => {
        const unread = order === 'asc' ? -Infinity : Infinity;
        const expected = partitions.flat().filter((entry) => entry.wanted && !entry.gone);
        const seen: Member[] = [];
        const sizes: number[] = [];
        let cursors: PageCursor[] = partitions.map(() => ({ score: unread, member: null }));
        for (;;) {
          const page = await walkPartitions(cursors, setsWalk(partitions, order, limit));
          seen.push(...page.items);
          sizes.push(page.items.length);
          if (page.nextCursor === undefined) break;
          expect(sizes.length).toBeLessThanOrEqual(expected.length);
          cursors = decodeCursor(page.nextCursor, partitions.length, unread, BINDING);
        }
        expect(seen.map((entry) => entry.id).sort()).toEqual(expected.map((entry) => entry.id).sort());
        const scores = seen.map((entry) => entry.score);
        expect(scores).toEqual([...scores].sort((a, b) => (order === 'asc' ? a - b : b - a)));
        // Full pages, then the rest: a page of `limit` is the last one only when nothing follows it.
        expect(sizes).toEqual(
          expected.length === 0 ? [0] : Array.from({ length: Math.ceil(expected.length / limit) }, (_, i) => Math.min(limit, expected.length - i * limit)),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('given a member at an infinite score, written as Redis writes it (`inf`), then it is merged in order, after every finite one', async () => {
    const sets = [
      ['m-endless', 'inf'],
      ['m-timed', '5'],
    ];
    const walk: PartitionWalk<string> = {
      order: 'asc',
      limit: 2,
      read: (index, cursor) => Promise.resolve(cursor.member === null ? sets[index] : []),
      load: (ids) => Promise.resolve(ids),
      matches: () => true,
      binding: BINDING,
    };
    // Read as NaN, it compared as neither before nor after the other, and came first.
    const page = await walkPartitions(
      sets.map(() => ({ score: -Infinity, member: null })),
      walk,
    );
    expect(page.items).toEqual(['m-timed', 'm-endless']);
  });

  it('given 8 missions, then pages of 1 are 8 and pages of 2 are 4, the last without a nextCursor', async () => {
    const missions = [Array.from({ length: 8 }, (_, i) => ({ id: idOf(0, i), score: 1_000 + i, wanted: true, gone: false }))];
    for (const [limit, pages] of [
      [1, 8],
      [2, 4],
      [8, 1],
    ]) {
      const sizes: number[] = [];
      let cursors: PageCursor[] = [{ score: Infinity, member: null }];
      for (;;) {
        const page = await walkPartitions(cursors, setsWalk(missions, 'desc', limit));
        sizes.push(page.items.length);
        if (page.nextCursor === undefined) break;
        cursors = decodeCursor(page.nextCursor, 1, Infinity, BINDING);
      }
      expect({ limit, sizes }).toEqual({ limit, sizes: Array.from({ length: pages }, () => limit) });
    }
  });
});
