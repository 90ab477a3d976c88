import { KeyLayout, MISSION_HASH_FIELDS, MissionStore } from '@app/event-store';
import { decideRequeue, Mission, MissionEvent } from '@app/mission';
import { effectsOf } from '@app/pipeline';
import { aCreateInput, deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { ApiKeyStore } from '../../apps/intake/src/auth';
import { MissionQueryService } from '../../apps/intake/src/missions/mission-query.service';
import { seedDeadLetters } from '../support/seed-dead-letters';

/**
 * The dead-letter list (`GET /api/dlq`) over real Redis: each dead letter's reason is kept in its
 * mission hash with the dead-letter queue entry, so listing many reads no log. It used to read each
 * one's last MissionDeadLettered from the log, a few round trips per dead letter, and the console
 * reads every page it has loaded again on each reload.
 */
describe('the reasons of the dead-letter list (real Redis)', () => {
  const redis = testRedisConnection('dead-letter-reasons');
  const prefix = testKeyPrefix('dead-letter-reasons');
  // Two partitions: the reads go out one pipeline per partition.
  const keys = new KeyLayout(prefix, 2);
  const store = new MissionStore(redis, keys);
  const queries = new MissionQueryService(redis, keys, store, new ApiKeyStore([]));
  const REASON = 'failed 1 of 1 attempts';
  let ids: string[];

  beforeAll(async () => {
    ids = await seedDeadLetters(
      store,
      Array.from({ length: 30 }, (_, i) => aCreateInput({ title: `Lift check ${i}` })),
      Date.now() - 60_000,
    );
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given many dead letters, when they are listed, then each has its reason and no log is read', async () => {
    const logReads = jest.spyOn(MissionStore.prototype, 'lastEventOfType');

    const page = await queries.deadLetterPage(200);
    const byOffset = await queries.deadLetters(200);

    expect(page.items.map((entry) => [entry.missionId, entry.reason])).toEqual(ids.map((id) => [id, REASON]));
    expect(byOffset).toEqual(page.items);
    expect(logReads).not.toHaveBeenCalled();
  });

  it('given pages smaller than the list, then they hold every dead letter once, oldest first', async () => {
    const shown: string[] = [];
    let cursor: string | undefined;
    do {
      // Each partition is read a few at a time (about a page's share): the merge still takes the oldest.
      const page = await queries.deadLetterPage(7, cursor);
      shown.push(...page.items.map((entry) => entry.missionId));
      cursor = page.nextCursor;
    } while (cursor);

    expect(shown).toEqual(ids);
  });

  it('given a dead letter from before reasons were kept with it, when listed, then its reason is read from its log, and only its', async () => {
    const [old] = ids;
    await redis.hdel(keys.mission(old), MISSION_HASH_FIELDS.deadLetterReason);
    const logReads = jest.spyOn(MissionStore.prototype, 'lastEventOfType');

    const page = await queries.deadLetterPage(200);

    expect(page.items.find((entry) => entry.missionId === old)?.reason).toBe(REASON);
    expect(logReads.mock.calls.map(([missionId]) => missionId)).toEqual([old]);
  });

  it('given a dead letter requeued, then its kept reason goes with its entry', async () => {
    const requeued = ids[1];
    const effects = (next: Mission, appended: MissionEvent[], previous: Mission | null) =>
      effectsOf(appended, { previous, next, now: Date.now(), queueScore: () => 0 });
    const outcome = await store.transition(requeued, (mission) => decideRequeue(mission, 'test'), { actor: 'test' }, effects);

    expect(outcome.kind).toBe('appended');
    expect(await redis.zscore(keys.of(requeued).deadLetters, requeued)).toBeNull();
    expect(await redis.hexists(keys.mission(requeued), MISSION_HASH_FIELDS.deadLetterReason)).toBe(0);
  });
});
