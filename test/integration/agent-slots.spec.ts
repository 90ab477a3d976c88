import { AgentSlots, ClaimCode, ReleaseCode, SlotHold } from '@app/agents';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, testKeyPrefix, testRedis } from '@app/testing';

describe('AgentSlots (real Redis)', () => {
  const prefix = testKeyPrefix('agent-slots');
  const keys = new KeyLayout(prefix);
  const redis = testRedis();
  const slots = new AgentSlots(redis, keys);
  const hold = (missionId: string, agentId = 'agent-a', attempt = 1): SlotHold => ({ agentId, missionId, attempt });
  const load = async (agentId = 'agent-a') => Number((await redis.hget(keys.agentLoad, agentId)) ?? 0);

  beforeEach(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.hset(keys.agentCapacity, 'agent-a', 2, 'agent-b', 1);
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given an agent with two slots, when three missions claim it in one call, then two get a slot and the third is refused', async () => {
    const claims = await slots.claim([hold('m-1'), hold('m-2'), hold('m-3')], 1_000);

    expect(claims.map((claim) => claim.code)).toEqual([ClaimCode.Claimed, ClaimCode.Claimed, ClaimCode.AgentFull]);
    expect(await load()).toBe(2);
    expect(await redis.hget(keys.agentLastAssigned, 'agent-a')).toBe('1000');
    expect((await slots.holds()).map((h) => h.missionId).sort()).toEqual(['m-1', 'm-2']);
  });

  it('given a held slot, when the same attempt claims it again, then it is confirmed, no second slot is taken, and the hold now carries the new claim', async () => {
    const [first] = await slots.claim([hold('m-1')], 1_000);

    const [second] = await slots.claim([hold('m-1')], 2_000);

    expect(second.code).toBe(ClaimCode.AlreadyHeld);
    expect(await load()).toBe(1);
    const [stored] = await slots.holds();
    expect(stored).toMatchObject({ at: 2_000, raw: second.raw });
    expect(await slots.giveBack(hold('m-1'), first.raw)).toBe(ReleaseCode.NotHeld);
    expect(await slots.giveBack(hold('m-1'), second.raw)).toBe(ReleaseCode.Released);
    expect(await load()).toBe(0);
  });

  it('given a verdict, when the end of its attempt is delivered twice, then the slot, the credits and the quality move once', async () => {
    await slots.claim([hold('m-1')]);
    const credit = { delta: 8.5, score: 0.85, passed: true, actor: 'evaluator' };

    expect(await slots.endAttempt(hold('m-1'), credit)).toBe(ReleaseCode.Released);
    expect(await slots.endAttempt(hold('m-1'), credit)).toBe(ReleaseCode.NotHeld);

    expect(await load()).toBe(0);
    expect(Number(await redis.hget(keys.agentCredits, 'agent-a'))).toBe(8.5);
    expect(Number(await redis.hget(keys.agentQuality, 'agent-a'))).toBe(0.85);
    const events = await redis.xrange(keys.agentLog('agent-a'), '-', '+');
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0][1][1])).toMatchObject({ type: 'AgentCreditsChanged', data: { delta: 8.5, missionId: 'm-1', attempt: 1, passed: true } });
  });

  it('given a credited attempt whose ended marker has expired, when its end is delivered again, then nothing moves a second time', async () => {
    await slots.claim([hold('m-1'), hold('m-2')]);
    const credit = { delta: 8.5, score: 0.85, passed: true, actor: 'evaluator' };
    await slots.endAttempt(hold('m-1'), credit);
    // The marker lives ENDED_MARKER_TTL_S; a message reclaimed later than that finds it gone.
    await redis.del(`${keys.agentHoldEndedPrefix}m-1:1:agent-a`);

    expect(await slots.endAttempt(hold('m-1'), credit)).toBe(ReleaseCode.NotHeld);

    expect(await load()).toBe(1);
    expect(Number(await redis.hget(keys.agentCredits, 'agent-a'))).toBe(8.5);
    expect(Number(await redis.hget(keys.agentQuality, 'agent-a'))).toBe(0.85);
    expect(await redis.xlen(keys.agentLog('agent-a'))).toBe(1);
  });

  it('given an attempt that ended, when a stale lease claims it again, then the claim is refused and no slot is taken', async () => {
    await slots.claim([hold('m-1')]);
    await slots.endAttempt(hold('m-1'));

    const [stale] = await slots.claim([hold('m-1')]);

    expect(stale.code).toBe(ClaimCode.Ended);
    expect(await load()).toBe(0);
    expect(await slots.holds()).toEqual([]);
  });

  it('given a hold read by the reaper, when it was claimed again before the give-back, then the fenced give-back keeps it', async () => {
    await slots.claim([hold('m-1')], 1_000);
    const [seen] = await slots.holds();
    await slots.claim([hold('m-1')], 5_000);

    expect(await slots.giveBack(hold('m-1'), seen.raw)).toBe(ReleaseCode.NotHeld);
    expect(await load()).toBe(1);
  });
  it('given attempts in flight restored beside a full agent, then each holds a slot whatever the room, a second restore changes nothing, and each end frees one', async () => {
    await slots.claim([hold('m-1'), hold('m-2')], 1_000);

    expect(await slots.restore([hold('m-3'), hold('m-4', 'agent-c')], 2_000)).toBe(2);
    expect(await slots.restore([hold('m-3'), hold('m-1')], 3_000)).toBe(0);

    expect({ a: await load(), c: await load('agent-c') }).toEqual({ a: 3, c: 1 });
    expect((await slots.holds()).find((h) => h.missionId === 'm-3')).toMatchObject({ agentId: 'agent-a', attempt: 1, at: 2_000 });
    expect((await slots.claim([hold('m-5')])).map((claim) => claim.code)).toEqual([ClaimCode.AgentFull]);
    expect(await slots.endAttempt(hold('m-3'))).toBe(ReleaseCode.Released);
    expect(await slots.endAttempt(hold('m-4', 'agent-c'))).toBe(ReleaseCode.Released);
    expect({ a: await load(), c: await load('agent-c') }).toEqual({ a: 2, c: 0 });
  });
});
