import { PinoLogger } from 'nestjs-pino';
import { loadEnvironment } from '@app/config';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { decideCreate } from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { deleteKeysByPrefix, testKeyPrefix, TEST_QUEUE_ORDER, testRedis } from '@app/testing';
import { LeaseExpiryService } from './lease-expiry.service';

describe('LeaseExpiryService (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('lease-expiry');
  const keys = new KeyLayout(prefix);
  const store = new MissionStore(redis, keys);
  const queue = new ReadyQueue(redis, keys, TEST_QUEUE_ORDER);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // HMGET on its hash failed the whole sweep with WRONGTYPE, every LEASE_MS/4, after the missions
  // before it were back in the ready queue, and the missions after it stayed leased for good. One
  // whose hash was deleted was queued at the back, in no skill set's queue and uncounted.
  it('given run-out leases, one of whose missions has its hash replaced by another type and one its hash deleted, when it sweeps twice, then the others return and those are named once, out of the queue', async () => {
    const logger = new PinoLogger({ pinoHttp: { level: 'silent' } });
    const warn = jest.spyOn(logger, 'warn');
    const sweeper = new LeaseExpiryService(queue, loadEnvironment({ KEY_PREFIX: prefix }), redis, logger);
    const t = Date.now();
    for (const [i, id] of ['m-1', 'm-replaced', 'm-2', 'm-deleted'].entries()) {
      const result = await store.append(
        id,
        null,
        decideCreate({ type: 'pricing', title: id, description: '', priority: 'normal', payload: {} }),
        { actor: 'test' },
        (m) => [{ kind: 'enqueue', score: queue.score(m, t + i), enqueuedAt: t + i, level: m.priority }],
      );
      expect(result.code).toBe(AppendCode.Ok);
    }
    // Leased a minute ago for a second: run out by Redis's clock (expired in id order, the deadlines alike).
    expect(await queue.lease(0, 4, 1_000, 'lease-1', { now: t - 60_000 })).toHaveLength(4);
    await redis.multi().del(keys.mission('m-replaced')).set(keys.mission('m-replaced'), 'replaced by hand').exec();
    await redis.del(keys.mission('m-deleted'));

    await sweeper.sweep();
    await sweeper.sweep();

    expect(await queue.readyIds()).toEqual(['m-1', 'm-2']);
    expect(await redis.zcard(keys.partitions[0].leased)).toBe(0);
    expect(warn.mock.calls).toEqual([
      [
        { missionId: 'm-deleted' },
        `lease expired; mission m-deleted: it has no read model (its key ${keys.mission('m-deleted')} holds no state nor queue fields), so it stays out of the ready queue until it is mended (replay verify names it: run replay rebuild, which writes it again and queues it)`,
      ],
      [
        { missionId: 'm-replaced' },
        `lease expired; mission m-replaced: its key ${keys.mission('m-replaced')} holds another type of value than a hash, so it stays out of the ready queue until it is mended (replay verify names it: delete the key, then run replay rebuild)`,
      ],
      [{ returned: 2 }, 'leases expired; missions returned to the ready queue'],
    ]);
  });
});
