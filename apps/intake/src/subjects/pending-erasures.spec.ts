import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { PENDING_ERASURES_PAGE, PendingErasure, PendingErasures } from './pending-erasures';

describe('PendingErasures (real Redis)', () => {
  const redis = testRedisConnection('pending-erasures-spec');
  const keys = new KeyLayout(testKeyPrefix('pending-erasures'));
  const pending = new PendingErasures(redis, keys);

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
    await redis.quit();
  });

  // The list read each next page at an offset: an erasure before it completed meanwhile moved
  // every one behind it one place up, and the first of the next page waited for the next sweep.
  it('given an erasure the list read completed meanwhile, then the list still holds the erasure after the page', async () => {
    const subjects = Array.from({ length: PENDING_ERASURES_PAGE + 1 }, (_, i) => `guest:${String(i).padStart(3, '0')}`);
    const erasures: PendingErasure[] = [];
    for (const [i, subjectId] of subjects.entries()) erasures.push(await pending.mark(subjectId, 'ops', 'asked by the guest', new Date(i)));
    const read = pending.read.bind(pending);
    jest.spyOn(pending, 'read').mockImplementation(async (subjectId) => {
      // Its request completes the first erasure as the list reads the last of the page.
      if (subjectId === subjects[PENDING_ERASURES_PAGE - 1]) await pending.clear(erasures[0]);
      return read(subjectId);
    });

    const listed = await pending.list(new Date(PENDING_ERASURES_PAGE + 1));

    expect(listed.map(({ subjectId }) => subjectId)).toEqual(subjects);
  });
});
