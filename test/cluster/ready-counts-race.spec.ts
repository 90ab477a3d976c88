import { checkReadyCounts, recountReadyQueue } from '@app/audit';
import { KeyLayout } from '@app/event-store';
import { isCluster } from '@app/redis';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { enqueueByHand, RACE_ENQUEUED_AT, RACE_SKILLS, withWritesBetweenReads } from '../support/ready-queue-race';

/** Passes, each with an enqueue landing between its reads: the old MULTI reached the ready queue's master about one in three. */
const ROUNDS = 12;

// A check's MULTI (as a recount's with nothing to write) held no keyed command: ioredis Cluster
// sent it to any master, where EXEC, watching nothing, succeeded, so a pass that an enqueue
// raced was taken as settled and reported drift that was not there. (A recount that races one
// has counts to write, whose keys took its MULTI to the right master already.)
describe('the ready-queue count check on a Redis Cluster, an enqueue landing between its reads', () => {
  const redis = testRedisConnection('ready-counts-race-spec');
  const prefix = testKeyPrefix('ready-counts-race');
  const keys = new KeyLayout(prefix).partitions[0];

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a ready queue in step with its counts, when verify reads it while an enqueue lands, then it reads again and finds it in step', async () => {
    expect(isCluster(redis)).toBe(true);
    for (let round = 0; round < ROUNDS; round++) {
      await deleteKeysByPrefix(redis, prefix);
      await enqueueByHand(redis, keys, 'a', 10);
      await enqueueByHand(redis, keys, 'b', 10);
      const raced = withWritesBetweenReads(redis, () => enqueueByHand(redis, keys, 'new', 11), 1);

      expect({ round, ...(await checkReadyCounts(raced.redis, keys)) }).toEqual({ round, settled: true, differences: [], mended: 0, wrongType: [] });
      expect(raced.landed()).toBe(1);
      expect(await redis.hgetall(keys.readyByLevel)).toEqual({ high: '3' });
      expect(await redis.hgetall(keys.readyBySkills)).toEqual({ [RACE_SKILLS]: '3' });
    }
  });

  // ready-since is read by the same script and written in the same MULTI as the ready queue: one slot.
  it("given ready-since apart from the ready queue, when rebuild recounts it, then it writes it again in the ready queue's slot", async () => {
    await deleteKeysByPrefix(redis, prefix);
    await enqueueByHand(redis, keys, 'a', 10);
    await redis.multi().zrem(keys.readySince, 'a').zadd(keys.readySince, 1, 'stray').exec();

    expect(await recountReadyQueue(redis, keys)).toMatchObject({ settled: true, differences: [{ key: keys.readySince }], mended: 2, wrongType: [] });
    expect(await redis.zrange(keys.readySince, 0, -1, 'WITHSCORES')).toEqual(['a', String(RACE_ENQUEUED_AT)]);
    expect(await checkReadyCounts(redis, keys)).toEqual({ settled: true, differences: [], mended: 0, wrongType: [] });
  });
});
