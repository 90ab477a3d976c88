import { MISSION_HASH_FIELDS, PartitionKeys, PassedOverMissions, UnreadableStoredDataError } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedis } from '@app/testing';
import { DueEntry, DueMissionsWalk, MAX_PASSED_OVER_PER_RUN, SWEEP_BATCH, withoutLease } from './due-missions-walk';

describe('DueMissionsWalk (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('due-missions-walk');
  const newWalk = () => new DueMissionsWalk(redis, new PassedOverMissions('the test sweep', () => undefined));
  // The partition's own sets, one per test, and its missions' hashes: in one Redis Cluster slot, as the forget script needs.
  const partition = new PartitionKeys(prefix, 0);

  /** The missions each of `count` runs in a row of one walk over `key` acts on. */
  async function actedOnPerRun(key: string, until: string, count: number, act: (missionId: string) => Promise<DueEntry>): Promise<string[][]> {
    const walk = newWalk();
    const runs: string[][] = [];
    for (let i = 0; i < count; i++) {
      const actedOn: string[] = [];
      await walk.walk(partition, key, until, (missionId) => {
        actedOn.push(missionId);
        return act(missionId);
      });
      runs.push(actedOn);
    }
    return runs;
  }

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // A mission acted on was taken to leave the set: entries that stay (a review not yet overdue by
  // its own data) were read again on every page, SWEEP_BATCH of them filled each run, and the
  // mission behind them was never acted on.
  it('given more entries that stay once acted on than a run acts on, then the next run goes on behind them, and the one after starts from the earliest', async () => {
    const key = partition.scheduled('delayed');
    const waiting = Array.from({ length: SWEEP_BATCH + 50 }, (_, i) => `m-waiting-${String(i).padStart(3, '0')}`);
    await redis.zadd(key, ...waiting.flatMap((id, score) => [score, id]), SWEEP_BATCH + 50, 'm-behind');

    const runs = await actedOnPerRun(key, '+inf', 3, async (missionId) => {
      if (missionId !== 'm-behind') return DueEntry.Waiting;
      // As its event's effect does.
      await redis.zrem(key, missionId);
      return DueEntry.Left;
    });

    expect(runs).toEqual([waiting.slice(0, SWEEP_BATCH), [...waiting.slice(SWEEP_BATCH), 'm-behind'], waiting.slice(0, SWEEP_BATCH)]);
    expect(await redis.zcard(key)).toBe(waiting.length);
  });

  // A waiting entry was stepped over as it was read: one written again meanwhile, due later, had
  // left its place, so the walk's place behind it was one entry too far, and the entry it came
  // to next was skipped.
  it('given a waiting entry written again while acted on, due later, when a run stops and the next goes on, then no entry behind it is skipped', async () => {
    const key = partition.scheduled('retry');
    const leaving = Array.from({ length: SWEEP_BATCH - 1 }, (_, i) => `m-leaving-${String(i).padStart(3, '0')}`);
    await redis.zadd(key, 0, 'm-asked-again', ...leaving.flatMap((id, i) => [i + 1, id]), 1000, 'm-behind-1', 1001, 'm-behind-2');

    // The first run acts on SWEEP_BATCH missions and stops; the second goes on where it stopped.
    const runs = await actedOnPerRun(key, '5000', 2, async (missionId) => {
      if (missionId === 'm-asked-again') {
        // Its review asked for again while the sweep looked at it: due later than this run looks.
        await redis.zadd(key, 1e12, missionId);
        return DueEntry.Waiting;
      }
      await redis.zrem(key, missionId);
      return DueEntry.Left;
    });

    expect(runs.map((actedOn) => actedOn.filter((missionId) => !missionId.startsWith('m-leaving-')))).toEqual([
      ['m-asked-again'],
      ['m-behind-1', 'm-behind-2'],
    ]);
  });

  // The walk read each next page at an offset, the count of entries it had left in place: one of
  // those leaving the set meanwhile moved every entry behind it one place up, and the first entry
  // of the next page was not read until a run next started from the earliest, a period later.
  it('given an entry the run stepped over leaving the set meanwhile, then the next page of the same run still reads the entry after the page', async () => {
    const key = new PartitionKeys(prefix, 1).deadlines;
    expect(SWEEP_BATCH).toBeLessThan(MAX_PASSED_OVER_PER_RUN);
    const unreadable = Array.from({ length: SWEEP_BATCH }, (_, i) => `m-unreadable-${String(i).padStart(3, '0')}`);
    await redis.zadd(key, ...unreadable.flatMap((id, score) => [score, id]), SWEEP_BATCH, 'm-behind');

    const [actedOn] = await actedOnPerRun(key, '+inf', 1, async (missionId) => {
      if (missionId === 'm-behind') {
        await redis.zrem(key, missionId);
        return DueEntry.Left;
      }
      // The first one passed over leaves the set while the run passes over the last of the page:
      // deleted by hand, or mended and acted on by another intake.
      if (missionId === unreadable[SWEEP_BATCH - 1]) await redis.zrem(key, unreadable[0]);
      throw new UnreadableStoredDataError(missionId, 'its state in the read model (s) is not JSON');
    });

    expect(actedOn).toEqual([...unreadable, 'm-behind']);
    expect(await redis.zrange(key, 0, -1)).toEqual(unreadable.slice(1));
  });

  // The same between two runs: the run stopped by SWEEP_BATCH kept the count of entries it left
  // in place, and the next one, reading on at that offset after one of them left, skipped one.
  it('given an entry a stopped run stepped over leaving the set before the next run, then the next run goes on with the entry after the last one read', async () => {
    const key = new PartitionKeys(prefix, 2).deadlines;
    const waiting = Array.from({ length: SWEEP_BATCH + 2 }, (_, i) => `m-waiting-${String(i).padStart(3, '0')}`);
    // All due at the same time: where the first run stops is among them, ordered by id.
    await redis.zadd(key, ...waiting.flatMap((id) => [0, id]));
    const walk = newWalk();
    const runOf = async () => {
      const actedOn: string[] = [];
      await walk.walk(partition, key, '+inf', async (missionId) => {
        actedOn.push(missionId);
        return DueEntry.Waiting;
      });
      return actedOn;
    };

    expect(await runOf()).toEqual(waiting.slice(0, SWEEP_BATCH));
    // Its mission cancelled between the runs.
    await redis.zrem(key, waiting[0]);

    expect(await runOf()).toEqual(waiting.slice(SWEEP_BATCH));
  });

  // The members tied with a stopped run's place were read whatever `until`: a run due by an earlier
  // time (the clock stepped back) acted on missions not yet due, took them for stale and forgot
  // their entries; 201 missions with one deadline lost the 201st's for good.
  it('given a stopped run among entries due at one time, when the next run is due by an earlier time, then it acts on none of them and reads the entries due by then', async () => {
    const key = new PartitionKeys(prefix, 3).deadlines;
    const tied = Array.from({ length: SWEEP_BATCH + 1 }, (_, i) => `m-tied-${String(i).padStart(3, '0')}`);
    await redis.zadd(key, ...tied.flatMap((id) => [1000, id]));
    const walk = newWalk();
    const runUntil = async (until: string) => {
      const actedOn: string[] = [];
      await walk.walk(partition, key, until, async (missionId) => {
        actedOn.push(missionId);
        if ((await redis.zscore(key, missionId)) !== '1000' || Number(until) >= 1000) {
          await redis.zrem(key, missionId);
          return DueEntry.Left;
        }
        // Not due yet by its own data: a sweep's transition skips it, and its entry is taken for stale.
        return DueEntry.staleAfter({ kind: 'not_found' });
      });
      return actedOn;
    };

    expect(await runUntil('1001')).toEqual(tied.slice(0, SWEEP_BATCH));
    // Due before the run's place, written between the runs.
    await redis.zadd(key, 500, 'm-earlier');

    expect(await runUntil('998')).toEqual(['m-earlier']);
    expect(await redis.zrange(key, 0, -1)).toEqual([tied[SWEEP_BATCH]]);
    expect(await runUntil('1005')).toEqual([tied[SWEEP_BATCH]]);
  });

  it('given stale entries, then the walk forgets those still as it read them and keeps one written again since', async () => {
    const key = partition.deadlines;
    await redis.zadd(key, 1, 'm-gone', 2, 'm-back');

    await newWalk().walk(partition, key, '10', async (missionId) => {
      // The mission came back meanwhile, due later.
      if (missionId === 'm-back') await redis.zadd(key, 20, missionId);
      return DueEntry.staleAfter({ kind: 'not_found' });
    });

    expect(await redis.zrange(key, 0, -1, 'WITHSCORES')).toEqual(['m-back', '20']);
  });

  // The forget checked only the entry's score: a mission whose hash was deleted by hand, found
  // missing, and written back with its entry, at the same time, by `replay rebuild` (which runs
  // with the system running) before the forget, lost that entry, and a second rebuild, finding
  // the mission as it should be, did not restore it.
  it('given stale entries whose missions were written again while acted on, then the walk keeps those, steps over them, and forgets the others', async () => {
    const key = partition.reviewDeadlines;
    const leaving = Array.from({ length: SWEEP_BATCH - 5 }, (_, i) => `m-leaving-${String(i).padStart(3, '0')}`);
    await redis.zadd(
      key,
      0,
      'm-rebuilt',
      1,
      'm-moved-on',
      2,
      'm-as-read',
      3,
      'm-gone',
      4,
      'm-switched',
      ...leaving.flatMap((id, i) => [i + 5, id]),
      1000,
      'm-behind-1',
      1001,
      'm-behind-2',
    );
    for (const [missionId, version, status] of [
      ['m-moved-on', 4, 'cancelled'],
      ['m-as-read', 3, 'cancelled'],
      ['m-switched', 3, 'scheduled'],
    ] as const)
      await redis.hset(partition.mission(missionId), MISSION_HASH_FIELDS.version, version, MISSION_HASH_FIELDS.status, status);

    // The first run acts on SWEEP_BATCH missions and stops; the second goes on where it stopped.
    const runs = await actedOnPerRun(key, '5000', 2, async (missionId): Promise<DueEntry> => {
      switch (missionId) {
        case 'm-rebuilt':
          // Not found; written back, at version 7, before the walk forgets its entry.
          await redis.hset(partition.mission(missionId), MISSION_HASH_FIELDS.version, 7);
          return DueEntry.staleAfter({ kind: 'not_found' });
        case 'm-moved-on':
        case 'm-as-read':
        case 'm-switched':
          // Read at version 3, cancelled, done with its entry; m-moved-on is at 4 since, and
          // m-switched was switched back to scheduled at version 3 (its `s` had drifted).
          return { kind: 'stale', read: { version: 3, status: 'cancelled' } };
        case 'm-gone':
          return DueEntry.staleAfter({ kind: 'not_found' });
      }
      await redis.zrem(key, missionId);
      return DueEntry.Left;
    });

    expect(runs.map((actedOn) => actedOn.filter((missionId) => !missionId.startsWith('m-leaving-')))).toEqual([
      ['m-rebuilt', 'm-moved-on', 'm-as-read', 'm-gone', 'm-switched'],
      ['m-behind-1', 'm-behind-2'],
    ]);
    expect(await redis.zrange(key, 0, -1, 'WITHSCORES')).toEqual(['m-rebuilt', '0', 'm-moved-on', '1', 'm-switched', '4']);
  });

  // staleAfter took a lost lease for a mission not found: its entry, the hash there, was kept and acted on again every run.
  it('given a sweep transition that lost a lease, then withoutLease fails the run, and passes the other outcomes on', () => {
    expect(() => withoutLease({ kind: 'lease_lost' })).toThrow('a sweep holds no lease, yet its transition lost one');
    expect(withoutLease({ kind: 'not_found' })).toEqual({ kind: 'not_found' });
  });
});
