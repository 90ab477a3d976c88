import { PinoLogger } from 'nestjs-pino';
import { AgentSlots, SlotHold } from '@app/agents';
import { loadEnvironment } from '@app/config';
import { KeyLayout, MissionStore } from '@app/event-store';
import { decideAssign, decideCreate, decideFail, decideRetry, Mission } from '@app/mission';
import { deleteKeysByPrefix, testKeyPrefix, aCreateInput, testRedis } from '@app/testing';
import { OrphanHoldReaper } from '../../apps/orchestrator/src/agents/orphan-hold-reaper.service';

const leakingTap = aCreateInput({ type: 'maintenance', title: 'Leaking tap in room 118', payload: { room: '118' } });
const LEASE_MS = 1_000;
const LONG_AGO = 0;
const NOW = 10 * LEASE_MS;

describe('OrphanHoldReaper (real Redis)', () => {
  const prefix = testKeyPrefix('reaper');
  const keys = new KeyLayout(prefix);
  const redis = testRedis();
  const store = new MissionStore(redis, keys);
  const slots = new AgentSlots(redis, keys);
  const reaper = new OrphanHoldReaper(slots, store, loadEnvironment({ LEASE_MS: String(LEASE_MS) }), redis, new PinoLogger({ pinoHttp: { level: 'silent' } }));
  let sequence = 0;

  const created = async (): Promise<Mission> => {
    const id = `m-${++sequence}`;
    const outcome = await store.append(id, null, decideCreate(leakingTap), { actor: 'test' });
    if (!('mission' in outcome)) throw new Error('create failed');
    return outcome.mission;
  };
  const act = async (mission: Mission, decide: (m: Mission) => ReturnType<typeof decideAssign>): Promise<Mission> => {
    const outcome = await store.transition(mission, decide, { actor: 'test' });
    if (outcome.kind !== 'appended') throw new Error(`expected an append, got ${outcome.kind}`);
    return outcome.mission;
  };
  const held = async () => (await slots.holds()).map((h) => h.missionId).sort();

  beforeEach(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.hset(keys.agentCapacity, 'agent-a', 10);
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a slot claimed long ago for an assignment that was never appended, when reaped, then the slot is given back', async () => {
    const mission = await created();
    await slots.claim([{ agentId: 'agent-a', missionId: mission.id, attempt: 1 }], LONG_AGO);

    expect(await reaper.reap(NOW)).toBe(1);
    expect(await held()).toEqual([]);
    expect(await redis.hget(keys.agentLoad, 'agent-a')).toBe('0');
  });

  // Its UnreadableStoredDataError failed every reap: no orphan hold after it was freed, the agents' slots stayed taken.
  it('given an old hold of a mission whose state was changed past reading, when reaped, then it is kept, and the orphan holds beside it given back', async () => {
    const broken = await created();
    const orphan = await created();
    await slots.claim(
      [
        { agentId: 'agent-a', missionId: broken.id, attempt: 1 },
        { agentId: 'agent-a', missionId: orphan.id, attempt: 1 },
      ],
      LONG_AGO,
    );
    await redis.hset(keys.mission(broken.id), 's', 'not json');

    expect(await reaper.reap(NOW)).toBe(1);
    expect(await held()).toEqual([broken.id]);
  });

  it('given a fresh claim whose assignment is not appended yet, when reaped, then it is kept', async () => {
    const mission = await created();
    await slots.claim([{ agentId: 'agent-a', missionId: mission.id, attempt: 1 }], NOW - LEASE_MS);

    expect(await reaper.reap(NOW)).toBe(0);
    expect(await held()).toEqual([mission.id]);
  });

  // Each stamped and aged its holds by its own host clock: a reaper an hour ahead of the claimer gave
  // back every fresh claim before its assignment landed, and the agent ran more missions than slots.
  it("given orchestrators an hour apart, when one claims and the other reaps, then a fresh claim is kept, and an old one freed, by Redis's clock", async () => {
    const HOUR_MS = 3_600_000;
    const fresh = await created();
    const realNow = Date.now();
    const clock = jest.spyOn(Date, 'now');
    try {
      clock.mockReturnValue(realNow - HOUR_MS);
      await slots.claim([{ agentId: 'agent-a', missionId: fresh.id, attempt: 1 }]);
      clock.mockReturnValue(realNow + HOUR_MS);

      expect(await reaper.reap()).toBe(0);
      expect(await held()).toEqual([fresh.id]);
      const [hold] = await slots.holds();
      expect(await reaper.reap(hold.at + 2 * LEASE_MS + 1)).toBe(1);
    } finally {
      clock.mockRestore();
    }
  });

  it('given old holds of a running assignment and of a failed attempt whose release is still on its way, when reaped, then both are kept', async () => {
    const running = await act(await created(), (m) => decideAssign(m, 'agent-a'));
    let failed = await act(await created(), (m) => decideAssign(m, 'agent-a'));
    failed = await act(failed, (m) => decideFail(m, 1, 'agent unreachable'));
    await act(failed, (m) => decideRetry(m, 1, 3));
    const holds: SlotHold[] = [running, failed].map((m) => ({ agentId: 'agent-a', missionId: m.id, attempt: 1 }));
    await slots.claim(holds, LONG_AGO);

    expect(await reaper.reap(NOW)).toBe(0);
    expect(await held()).toEqual([running.id, failed.id].sort());
  });

  it('given an old hold for an attempt that another agent got, when reaped, then it is given back', async () => {
    const mission = await act(await created(), (m) => decideAssign(m, 'agent-b'));
    await slots.claim([{ agentId: 'agent-a', missionId: mission.id, attempt: 1 }], LONG_AGO);

    expect(await reaper.reap(NOW)).toBe(1);
    expect(await held()).toEqual([]);
  });

  it('given the hold of an attempt that ended long ago and whose release never came, when reaped, then its slot is freed, once', async () => {
    let failed = await act(await created(), (m) => decideAssign(m, 'agent-a'));
    failed = await act(failed, (m) => decideFail(m, 1, 'agent unreachable'));
    await slots.claim([{ agentId: 'agent-a', missionId: failed.id, attempt: 1 }], LONG_AGO);

    expect(await reaper.reap(NOW + 100 * LEASE_MS)).toBe(1);
    expect(await held()).toEqual([]);
    expect(await redis.hget(keys.agentLoad, 'agent-a')).toBe('0');
    expect(await reaper.reap(NOW + 100 * LEASE_MS)).toBe(0);
  });
});
