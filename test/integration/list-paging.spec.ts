import fc from 'fast-check';
import { loadEnvironment } from '@app/config';
import { KeyLayout, MissionStore } from '@app/event-store';
import { isSealedPageCursor, Mission, MissionPage, parsePageCursor } from '@app/mission';
import { RedisConnection } from '@app/redis';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { ApiClient, ApiKeyStore } from '../../apps/intake/src/auth';
import { ListMissionsQuery } from '../../apps/intake/src/missions/list-missions.query';
import { MissionQueryService } from '../../apps/intake/src/missions/mission-query.service';
import { ReviewInboxService } from '../../apps/intake/src/reviews/review-inbox.service';

/**
 * The mission list and the review inbox walked page by page over real Redis sorted sets (the
 * creation indexes, the inbox sets) while missions leave and join them between pages, as approvals,
 * rejections, cancellations and new reviews do. The missions' states are not what is paged: each id
 * in a set loads as a mission that matches (LoadsWhatIsListed).
 */
class LoadsWhatIsListed extends MissionQueryService {
  // What the list and the inbox (through loadMany) both load by.
  override loadListed(ids: readonly string[]): Promise<(Mission | null)[]> {
    // An id ending in an odd digit was created by the client key partner-a, any other by partner-b.
    return Promise.resolve(
      ids.map((id) => ({ id, status: 'awaiting_review', type: 'guest_support', priority: 'normal', createdBy: creatorOf(id) }) as Mission),
    );
  }
}

const T = 1_777_000_000_000;
const OPERATOR: ApiClient = { name: 'ops', role: 'operator' };
const creatorOf = (id: string): string => (Number(id.at(-1)) % 2 === 1 ? 'partner-a' : 'partner-b');
const API_KEYS = new ApiKeyStore([
  { name: 'ops', secret: 'ops-secret-0123456789abcdef0123456789', role: 'operator' },
  { name: 'partner-a', secret: 'partner-a-secret-0123456789abcdef0123', role: 'client' },
  { name: 'partner-b', secret: 'partner-b-secret-0123456789abcdef0123', role: 'client' },
]);

describe('paging the mission list and the review inbox while missions come and go (real Redis)', () => {
  const redis: RedisConnection = testRedisConnection('list-paging');
  const prefixes: string[] = [];

  function setup(partitions: number) {
    const prefix = testKeyPrefix('list-paging');
    prefixes.push(prefix);
    const keys = new KeyLayout(prefix, partitions);
    const missions = new LoadsWhatIsListed(redis, keys, new MissionStore(redis, keys), API_KEYS);
    const inbox = new ReviewInboxService(redis, keys, missions, loadEnvironment({}));
    const inboxKey = (id: string) => keys.of(id).awaitingReview;
    const indexKey = (id: string) => keys.of(id).missionIndex;
    return { prefix, missions, inbox, inboxKey, indexKey };
  }

  /** Every page of a walk, `between` run after each page with what it showed. */
  async function walk(
    page: (cursor: string | undefined) => Promise<MissionPage<{ id: string }>>,
    between: (shown: string[]) => Promise<void>,
  ): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const next = await page(cursor);
      const shown = next.items.map((mission) => mission.id);
      seen.push(...shown);
      await between(shown);
      cursor = next.nextCursor;
    } while (cursor);
    return seen;
  }

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // The cursor counted the entries passed at a score: once the last one shown left, the count skipped the next one (5 of 10 shown).
  it.each([
    [10, 1, 1],
    [30, 3, 1],
    [60, 3, 20],
  ])(
    'given %i reviews waiting over %i partition(s), when pages of %i are read and each shown review is approved before the next page, then every review is shown once',
    async (count, partitions, limit) => {
      const { inbox, inboxKey } = setup(partitions);
      const ids = Array.from({ length: count }, (_, i) => `0000000${i % 10}-0000-4000-8000-${String(i).padStart(12, '0')}`);
      // Some asked for in the same millisecond: a tie is where a count of entries passed went wrong.
      for (const [i, id] of ids.entries()) await redis.zadd(inboxKey(id), T + Math.floor(i / 3), id);

      const seen = await walk(
        (cursor) => inbox.page({ limit, cursor }),
        async (shown) => {
          for (const id of shown) await redis.zrem(inboxKey(id), id);
        },
      );

      // Oldest first; reviews asked for in the same millisecond in other partitions may come in either order.
      expect([...seen].sort()).toEqual([...ids].sort());
      expect(seen.length).toBe(ids.length);
    },
  );

  it('given newest-first mission pages, when the last mission shown is deleted and one joins its millisecond with a lower id, then none is skipped or shown twice', async () => {
    const { missions, indexKey } = setup(1);
    const ids = Array.from({ length: 6 }, (_, i) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`);
    for (const id of ids) await redis.zadd(indexKey(id), T, id);
    const joined = '00000000-0000-4000-8000-000000000000';

    const seen = await walk(
      (cursor) => missions.list(Object.assign(new ListMissionsQuery(), { limit: 2, cursor }), OPERATOR),
      async (shown) => {
        const last = shown.at(-1) as string;
        await redis.zrem(indexKey(last), last);
        if (!(await redis.zscore(indexKey(joined), joined))) await redis.zadd(indexKey(joined), T, joined);
      },
    );

    // Newest first, ties by id descending; the one that joined sorts last of its millisecond, after the cursor.
    expect(seen).toEqual([...ids].reverse().concat(joined));
  });

  it("given a client key, when it pages the list across partitions, then it sees each of its own missions once, newest first, and none of another's; another key's cursor is a 400", async () => {
    const { missions, indexKey } = setup(3);
    const ids = Array.from({ length: 24 }, (_, i) => `0000000${i % 10}-0000-4000-8000-${String(i).padStart(12, '0')}`);
    for (const [i, id] of ids.entries()) await redis.zadd(indexKey(id), T + Math.floor(i / 2), id);
    const partnerA: ApiClient = { name: 'partner-a', role: 'client' };
    const partnerB: ApiClient = { name: 'partner-b', role: 'client' };
    const page = (caller: ApiClient, cursor?: string) => missions.list(Object.assign(new ListMissionsQuery(), { limit: 2, cursor }), caller);

    const seen = await walk(
      (cursor) => page(partnerA, cursor),
      () => Promise.resolve(),
    );

    const own = ids.filter((id) => creatorOf(id) === 'partner-a');
    expect([...seen].sort()).toEqual([...own].sort());
    expect(seen.length).toBe(own.length);
    // Newest first: created in pairs per millisecond, each pair holds one of partner-a's.
    expect(seen).toEqual([...own].reverse());
    const first = await page(partnerA);
    expect(first.nextCursor).toBeDefined();
    await expect(page(partnerB, first.nextCursor)).rejects.toMatchObject({ status: 400 });
    // Its walk stopped at missions of partner-b in the other partitions: the cursor names none of them, nor any other.
    const cursor = first.nextCursor as string;
    expect(isSealedPageCursor(cursor)).toBe(true);
    expect(parsePageCursor(cursor)).toBeNull();
    const bytes = Buffer.from(cursor, 'base64url').toString('hex');
    for (const id of ids) expect(bytes).not.toContain(id.replace(/-/g, ''));
    // A changed byte, or a cursor in plain of the same list, is not one the API issued.
    const changed = Buffer.from(cursor, 'base64url');
    changed[changed.length - 1] ^= 1;
    await expect(page(partnerA, changed.toString('base64url'))).rejects.toMatchObject({ status: 400 });
    const ofOperator = (await missions.list(Object.assign(new ListMissionsQuery(), { limit: 2 }), OPERATOR)).nextCursor as string;
    expect(parsePageCursor(ofOperator)).not.toBeNull();
    await expect(page(partnerA, ofOperator)).rejects.toMatchObject({ status: 400 });
    // Any other role still sees all of them.
    expect((await missions.list(Object.assign(new ListMissionsQuery(), { limit: 100 }), OPERATOR)).items).toHaveLength(ids.length);
  });

  it('given a mission created at …31.015Z, then createdFrom …31.0151Z leaves it out and createdTo …31.0151Z takes it in', async () => {
    const { missions, indexKey } = setup(1);
    const id = '00000000-0000-4000-8000-000000000001';
    await redis.zadd(indexKey(id), Date.parse('2026-05-01T10:00:31.015Z'), id);
    const list = async (filters: Partial<ListMissionsQuery>) =>
      (await missions.list(Object.assign(new ListMissionsQuery(), filters), OPERATOR)).items.map((mission) => mission.id);

    expect(await list({ createdFrom: '2026-05-01T10:00:31.0151Z' })).toEqual([]);
    expect(await list({ createdTo: '2026-05-01T10:00:31.0151Z' })).toEqual([id]);
    expect(await list({ createdFrom: '2026-05-01T10:00:31.0150Z', createdTo: '2026-05-01T10:00:31.0150001Z' })).toEqual([id]);
  });

  type Change = { kind: 'remove-shown' | 'remove-unseen'; pick: number } | { kind: 'add'; id: string; score: number };
  const change: fc.Arbitrary<Change> = fc.oneof(
    fc.record({ kind: fc.constantFrom<'remove-shown' | 'remove-unseen'>('remove-shown', 'remove-unseen'), pick: fc.nat() }),
    fc.record({ kind: fc.constant<'add'>('add'), id: fc.uuid(), score: fc.integer({ min: 0, max: 4 }) }),
  );

  it.each([1, 3])(
    'given any reviews over %i partition(s) and any of them leaving or joining between pages, then one that stayed throughout is shown exactly once and none twice',
    async (partitions) => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.record({ id: fc.uuid(), score: fc.integer({ min: 0, max: 4 }) }), { selector: (entry) => entry.id, maxLength: 30 }),
          fc.array(fc.array(change, { maxLength: 3 }), { maxLength: 30 }),
          fc.integer({ min: 1, max: 4 }),
          async (initial, changes, limit) => {
            const { prefix, inbox, inboxKey } = setup(partitions);
            for (const { id, score } of initial) await redis.zadd(inboxKey(id), T + score, id);
            const left = new Set<string>();
            const shownSoFar: string[] = [];
            let turn = 0;
            const seen = await walk(
              (cursor) => inbox.page({ limit, cursor }),
              async (shown) => {
                shownSoFar.push(...shown);
                for (const step of changes[turn++] ?? []) {
                  if (step.kind === 'add') {
                    await redis.zadd(inboxKey(step.id), 'NX', T + step.score, step.id);
                    continue;
                  }
                  const from = step.kind === 'remove-shown' ? shownSoFar : initial.map((entry) => entry.id).filter((id) => !shownSoFar.includes(id));
                  if (from.length === 0) continue;
                  const id = from[step.pick % from.length];
                  left.add(id);
                  await redis.zrem(inboxKey(id), id);
                }
              },
            );
            await deleteKeysByPrefix(redis, prefix);

            expect(new Set(seen).size).toBe(seen.length);
            const stayed = initial.map((entry) => entry.id).filter((id) => !left.has(id));
            expect(stayed.filter((id) => !seen.includes(id))).toEqual([]);
          },
        ),
        { numRuns: 60 },
      );
    },
  );
});
