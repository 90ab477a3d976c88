import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { decideCreate, Decision, Mission } from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { deleteKeysByPrefix, TEST_QUEUE_ORDER, testKeyPrefix, testRedis } from '@app/testing';
import { MissionPipeline } from './mission-pipeline';

describe('MissionPipeline (real Redis)', () => {
  const prefix = testKeyPrefix('mission-pipeline');
  const keys = new KeyLayout(prefix);
  const redis = testRedis();
  const store = new MissionStore(redis, keys);
  const pipeline = new MissionPipeline(store, new ReadyQueue(redis, keys, TEST_QUEUE_ORDER));

  afterEach(() => jest.useRealTimers());
  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it("given another writer's append between a transition's decision and its append, when the transition decides again, then its events are dated after that append, not before", async () => {
    const created = await pipeline.append(
      'm-1',
      null,
      decideCreate({ type: 'maintenance', title: 'Tap', description: 'Drips', priority: 'low', payload: {} }),
      {
        actor: 'test',
      },
    );
    if (created.code !== AppendCode.Ok) throw new Error('create failed');
    const stale: Mission = created.mission;
    // Only the clock is fake: Redis's client keeps its real timers.
    const start = Date.now() + 3_600_000;
    jest.useFakeTimers({
      now: start,
      doNotFake: [
        'nextTick',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
    });
    let decided = 0;
    const cancel = (mission: Mission): Decision => {
      decided += 1;
      if (decided === 1) {
        // The other writer appends at start + 30 s, after this decision and before its append, which then meets a conflict.
        jest.setSystemTime(start + 60_000);
      }
      return mission.status === 'queued'
        ? { kind: 'append', events: [{ type: 'MissionCancelled', data: { reason: 'guest left' } }] }
        : { kind: 'skip', reason: mission.status };
    };
    await store.append(stale.id, stale, [{ type: 'MissionOverdue', data: { deadline: new Date(start).toISOString() } }], {
      actor: 'other',
      now: new Date(start + 30_000),
    });

    const outcome = await pipeline.transition(stale, cancel, { actor: 'test' });

    expect(outcome.kind).toBe('appended');
    expect(decided).toBe(2);
    const [other, cancelled] = (await store.history(stale.id)).slice(-2);
    expect(other.type).toBe('MissionOverdue');
    // It was dated at the first decision's time (start), 30 s before the append it follows in the log.
    expect(Date.parse(cancelled.at)).toBeGreaterThanOrEqual(Date.parse(other.at));
  });
});
