import { checkReadyCounts, READY_CHANGING, recountReadyQueue, verifyPartition } from '@app/audit';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedis } from '@app/testing';
import { enqueueByHand, RACE_SKILLS, withWritesBetweenReads } from '../support/ready-queue-race';

// Nothing raced the ready-queue count pass: dropping its WATCH left every spec green, though a
// lease or enqueue landing between its reads of the counts and of the ready queue made verify
// report drift that was not there, and rebuild write counts from reads of two moments.
describe('the ready-queue count pass with enqueues landing between its reads (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-ready-race');
  const keys = new KeyLayout(prefix).partitions[0];
  let enqueued = 0;
  const enqueue = () => enqueueByHand(redis, keys, `m-new-${++enqueued}`, 11);

  beforeEach(async () => {
    enqueued = 0;
    await deleteKeysByPrefix(redis, prefix);
    await enqueueByHand(redis, keys, 'm-a', 10);
    await enqueueByHand(redis, keys, 'm-b', 10);
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it.each([
    ['verify', checkReadyCounts],
    ['rebuild', recountReadyQueue],
  ])('given one enqueue landing between the reads, when %s counts, then it reads again and finds the queue in step', async (_, pass) => {
    const raced = withWritesBetweenReads(redis, enqueue, 1);

    expect(await pass(raced.redis, keys)).toEqual({ settled: true, differences: [], mended: 0, wrongType: [] });
    expect(raced.landed()).toBe(1);
    expect(await redis.hgetall(keys.readyByLevel)).toEqual({ high: '3' });
    expect(await redis.hgetall(keys.readyBySkills)).toEqual({ [RACE_SKILLS]: '3' });
  });

  it('given enqueues landing between the reads of every attempt, when verify runs, then the counts are not checked, after five attempts', async () => {
    const raced = withWritesBetweenReads(redis, enqueue, Infinity);

    const result = await verifyPartition(raced.redis, keys);

    expect(result.notChecked).toContainEqual({ missionId: '', detail: READY_CHANGING });
    expect(result.findings).toEqual([]);
    expect(raced.landed()).toBe(5);
  });

  it('given enqueues landing between the reads of every attempt, when rebuild recounts, then it writes nothing and says the counts were not recounted', async () => {
    const raced = withWritesBetweenReads(redis, enqueue, Infinity);

    expect(await recountReadyQueue(raced.redis, keys)).toEqual({ settled: false, differences: [], mended: 0, wrongType: [] });
    expect(raced.landed()).toBe(5);
    expect(await redis.hgetall(keys.readyByLevel)).toEqual({ high: '7' });
  });
});
