import { PassedOverMissions } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedis } from '@app/testing';
import { DueEntry, DueMissionsWalk, SWEEP_BATCH } from './due-missions-walk';

describe('DueMissionsWalk (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('due-missions-walk');
  const newWalk = () => new DueMissionsWalk(redis, new PassedOverMissions('the test sweep', () => undefined));

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // A mission acted on was taken to leave the set: entries that stay (a review not yet overdue by
  // its own data) were read again on every page, SWEEP_BATCH of them filled each run, and the
  // mission behind them was never acted on.
  it('given more entries that stay once acted on than a run acts on, then the next run goes on behind them, and the one after starts from the earliest', async () => {
    const key = `${prefix}due-waiting`;
    const waiting = Array.from({ length: SWEEP_BATCH + 50 }, (_, i) => `m-waiting-${String(i).padStart(3, '0')}`);
    await redis.zadd(key, ...waiting.flatMap((id, score) => [score, id]), SWEEP_BATCH + 50, 'm-behind');
    const walk = newWalk();
    const runs: string[][] = [];
    const run = async () => {
      const actedOn: string[] = [];
      await walk.walk(key, '+inf', async (missionId) => {
        actedOn.push(missionId);
        if (missionId !== 'm-behind') return DueEntry.Waiting;
        // As its event's effect does.
        await redis.zrem(key, missionId);
        return DueEntry.Left;
      });
      runs.push(actedOn);
    };

    for (let i = 0; i < 3; i++) await run();

    expect(runs).toEqual([waiting.slice(0, SWEEP_BATCH), [...waiting.slice(SWEEP_BATCH), 'm-behind'], waiting.slice(0, SWEEP_BATCH)]);
    expect(await redis.zcard(key)).toBe(waiting.length);
  });

  it('given stale entries, then the walk forgets those still as it read them and keeps one written again since', async () => {
    const key = `${prefix}due-stale`;
    await redis.zadd(key, 1, 'm-gone', 2, 'm-back');

    await newWalk().walk(key, '10', async (missionId) => {
      // The mission came back meanwhile, due later.
      if (missionId === 'm-back') await redis.zadd(key, 20, missionId);
      return DueEntry.Stale;
    });

    expect(await redis.zrange(key, 0, -1, 'WITHSCORES')).toEqual(['m-back', '20']);
  });
});
