import fc from 'fast-check';
import { deleteKeysByPrefix, testKeyPrefix, testRedis } from '@app/testing';
import { membersAfter, membersInOrder, parseScore, SortedSetPlace, withinEnd } from './members-after';

describe('membersAfter and membersInOrder (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('members-after');
  let keys = 0;
  const newKey = () => `${prefix}z${keys++}`;

  /** Every member of a walk with membersInOrder, with its score text. */
  async function walked(key: string, walk: Parameters<typeof membersInOrder>[2]): Promise<[string, string][]> {
    const entries: [string, string][] = [];
    for await (const entry of membersInOrder(redis, key, walk)) entries.push(entry);
    return entries;
  }

  /** The strings Redis sends back to the sorted-set reads of `run` (ZRANGE and scripts). */
  async function stringsTransferred(run: () => Promise<unknown>): Promise<number> {
    let transferred = 0;
    const spies = (['zrange', 'evalsha', 'eval'] as const).map((name) => {
      const original = redis[name].bind(redis) as (...args: unknown[]) => Promise<unknown>;
      return jest.spyOn(redis, name).mockImplementation((async (...args: unknown[]) => {
        const reply = await original(...args);
        if (Array.isArray(reply)) transferred += reply.length;
        return reply;
      }) as never);
    });
    try {
      await run();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    return transferred;
  }

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // The members tied with the place were read by score alone: a place beyond `end` (a stopped
  // sweep's, handed to a run due by an earlier time) returned them though they were not due.
  it('given a place whose score lies beyond the end, then no member tied with it is returned, in either order', async () => {
    const key = newKey();
    await redis.zadd(key, 10, 'a', 10, 'b', 10, 'c', 20, 'd', 0, 'e');
    const asc = (end: string) => membersAfter(redis, key, { score: 10, member: 'a' }, { order: 'asc', end, limit: 10 });
    const desc = (end: string) => membersAfter(redis, key, { score: 10, member: 'c' }, { order: 'desc', end, limit: 10 });

    expect(await asc('5')).toEqual([]);
    expect(await asc('(10')).toEqual([]);
    expect(await asc('10')).toEqual(['b', '10', 'c', '10']);
    expect(await desc('15')).toEqual([]);
    expect(await desc('(10')).toEqual([]);
    expect(await desc('10')).toEqual(['b', '10', 'a', '10']);
    expect(await desc('-inf')).toEqual(['b', '10', 'a', '10', 'e', '0']);
  });

  // Each page read the whole tie group of its place: a walk through a group of 50,000 members
  // transferred 12.5 million strings.
  it('given a place inside a large tie group, then a page transfers only its own members, whether the place is still in the set or not', async () => {
    const key = newKey();
    const ids = Array.from({ length: 10_000 }, (_, i) => `m-${String(i).padStart(5, '0')}`);
    for (let i = 0; i < ids.length; i += 1000) await redis.zadd(key, ...ids.slice(i, i + 1000).flatMap((id) => [7, id]));
    let page: string[] = [];

    const present = await stringsTransferred(async () => {
      page = await membersAfter(redis, key, { score: 7, member: ids[5000] }, { order: 'asc', end: '+inf', limit: 10 });
    });
    expect(page.filter((_, i) => i % 2 === 0)).toEqual(ids.slice(5001, 5011));
    expect(present).toBe(20);

    await redis.zrem(key, ids[5000]);
    const gone = await stringsTransferred(async () => {
      page = await membersAfter(redis, key, { score: 7, member: ids[5000] }, { order: 'desc', end: '-inf', limit: 10 });
    });
    expect(page.filter((_, i) => i % 2 === 0)).toEqual(ids.slice(4990, 5000).reverse());
    expect(gone).toBe(20);
  });

  // Redis writes infinite scores `inf` and `-inf`: the place after such a member was NaN, and the
  // next page's bound "NaN" failed the walk with ERR.
  it('given members at infinite scores, then a walk a member a page reads them all, their scores as Redis writes them', async () => {
    const key = newKey();
    await redis.zadd(key, '+inf', 'x1', '+inf', 'x2', '-inf', 'w1', '-inf', 'w2', 5, 'y');

    expect(await walked(key, { end: '+inf', pageSize: 1 })).toEqual([
      ['w1', '-inf'],
      ['w2', '-inf'],
      ['y', '5'],
      ['x1', 'inf'],
      ['x2', 'inf'],
    ]);
    expect([parseScore('inf'), parseScore('+inf'), parseScore('-inf'), parseScore('0.5')]).toEqual([Infinity, Infinity, -Infinity, 0.5]);
  });

  // Ties with the place were ordered by JavaScript's `>` (UTF-16 code units), Redis's by bytes:
  // an emoji sorts before U+FF01 in the one and after it in the other.
  it('given non-ASCII members tied at one score, then a walk reads them in Redis order, also after a place that left the set', async () => {
    const key = newKey();
    const members = ['\uFF01', '\u{1F600}', 'z', '\u00e9', 'a'];
    await redis.zadd(key, ...members.flatMap((member) => [1, member]));
    const order = await redis.zrange(key, 0, -1);

    expect((await walked(key, { end: '+inf', pageSize: 1 })).map(([member]) => member)).toEqual(order);
    await redis.zrem(key, order[2]);
    const after = await membersAfter(redis, key, { score: 1, member: order[2] }, { order: 'asc', end: '+inf', limit: 10 });
    expect(after.filter((_, i) => i % 2 === 0)).toEqual(order.slice(3));
  });

  // A member tied with the last of a page got its score as JavaScript writes the number (0.1),
  // not as Redis does (0.10000000000000001), which the sweeps' forget script compares as text.
  it('given members tied at a fractional score, then every score is the text ZSCORE gives', async () => {
    const key = newKey();
    await redis.zadd(key, 0.1, 'a', 0.1, 'b', 0.1, 'c');
    const text = await redis.zscore(key, 'a');

    expect(await walked(key, { end: '+inf', pageSize: 1 })).toEqual([
      ['a', text],
      ['b', text],
      ['c', text],
    ]);
  });

  it('given a bound, then withinEnd says whether a score lies up or down to it', () => {
    expect([withinEnd(5, '5', 'asc'), withinEnd(5, '(5', 'asc'), withinEnd(6, '+inf', 'asc'), withinEnd(6, '5', 'asc')]).toEqual([true, false, true, false]);
    expect([withinEnd(5, '(5', 'desc'), withinEnd(6, '5', 'desc'), withinEnd(-Infinity, '-inf', 'desc')]).toEqual([false, true, true]);
  });

  const memberIds = ['m0', 'm1', 'm10', 'm2', 'm3', 'm4', 'm5', 'é', '\u{1F600}', '\uFF01'];
  type Change = ['add' | 'remove' | 'move', number, number];

  it('given members added, removed and moved inside and beyond tie groups between pages, then each member that stayed is read once, in order, none beyond the end', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: memberIds.length - 1 })), { minLength: 1, maxLength: 20 }),
        fc.array(
          fc.tuple(fc.constantFrom<Change[0]>('add', 'remove', 'move'), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: memberIds.length - 1 })),
          {
            maxLength: 20,
          },
        ),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom<['asc' | 'desc', string]>(['asc', '2'], ['asc', '(2'], ['desc', '1'], ['desc', '(1']),
        async (initial, changes: Change[], limit, [order, end]) => {
          const key = newKey();
          await redis.zadd(key, ...initial.flatMap(([score, id]) => [score, memberIds[id]]));
          const before = await redis.zrange(key, 0, -1, 'WITHSCORES');
          const touched = new Set<string>();
          const read: string[] = [];
          let place: SortedSetPlace = { score: order === 'asc' ? -Infinity : Infinity, member: null };
          let step = 0;
          for (;;) {
            const page = await membersAfter(redis, key, place, { order, end, limit });
            for (let i = 0; i < page.length; i += 2) {
              expect(withinEnd(parseScore(page[i + 1]), end, order)).toBe(true);
              read.push(page[i]);
              place = { score: parseScore(page[i + 1]), member: page[i] };
            }
            const change = changes[step++];
            if (change !== undefined) {
              const [kind, score, id] = change;
              touched.add(memberIds[id]);
              if (kind === 'add') await redis.zadd(key, 'NX', score, memberIds[id]);
              else if (kind === 'remove') await redis.zrem(key, memberIds[id]);
              else await redis.zadd(key, 'XX', score, memberIds[id]);
            }
            if (page.length < limit * 2) break;
          }
          const inOrder = (order === 'asc' ? before : [...before].reverse()).filter((_, i) => i % 2 === (order === 'asc' ? 0 : 1));
          const scoreOf = new Map(before.flatMap((value, i) => (i % 2 === 0 ? [[value, parseScore(before[i + 1])] as const] : [])));
          const stayed = inOrder.filter((member) => !touched.has(member) && withinEnd(scoreOf.get(member) ?? NaN, end, order));
          expect(read.filter((member) => stayed.includes(member))).toEqual(stayed);
          await redis.del(key);
        },
      ),
      { numRuns: 150 },
    );
  });
});
