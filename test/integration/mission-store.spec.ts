import { verifyLog } from '@app/audit';
import { AppendCode, KeyLayout, MissionStore, WithdrawalReleaseCode, WithdrawCode } from '@app/event-store';
import { decideCreate, IllegalTransitionError, Mission, MissionCreateDto } from '@app/mission';
import { queueKey, ReadyQueue } from '@app/mission-queue';
import { restoreMissionEffects } from '@app/pipeline';
import { deleteKeysByPrefix, testKeyPrefix, waitFor, TEST_QUEUE_ORDER, testRedis } from '@app/testing';

const input: MissionCreateDto = {
  type: 'maintenance',
  title: 'Leaking tap in room 118',
  description: 'Bathroom tap drips constantly',
  priority: 'normal',
  payload: { room: '118' },
};

describe('MissionStore (real Redis)', () => {
  const prefix = testKeyPrefix('store');
  const keys = new KeyLayout(prefix);
  const redis = testRedis();
  const store = new MissionStore(redis, keys);
  let sequence = 0;

  async function created(): Promise<Mission> {
    const result = await store.append(`m-${++sequence}`, null, decideCreate(input), { actor: 'test' }, [
      { kind: 'enqueue', score: 1, enqueuedAt: 1, level: 'normal' },
    ]);
    if (result.code !== AppendCode.Ok) throw new Error('create failed');
    return result.mission;
  }

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a new mission, then its events are in the log with versions 1..n and the read model holds the fold', async () => {
    const mission = await created();
    const history = await store.history(mission.id);
    expect(history.map((e) => [e.type, e.version])).toEqual([
      ['MissionCreated', 1],
      ['MissionQueued', 2],
    ]);
    expect(await store.load(mission.id)).toEqual(mission);
    expect(mission).toMatchObject({ status: 'queued', version: 2 });
  });

  it('given many missions queued at once, when each nudges the orchestrator, then one queue.ready is sent per window, and another once the window has passed', async () => {
    // A window wide enough that ten appends fall into it on a loaded machine too.
    const nudging = new MissionStore(redis, keys, 1_000);
    const nudges = () => redis.xlen(keys.partitions[0].stream('orchestrator'));
    const before = await nudges();
    const nudge = async () => {
      const result = await nudging.append(`m-${++sequence}`, null, decideCreate(input), { actor: 'test' }, [{ kind: 'nudge-orchestrator' }]);
      expect(result.code).toBe(AppendCode.Ok);
    };

    await Promise.all(Array.from({ length: 10 }, nudge));
    expect(await nudges()).toBe(before + 1);

    await waitFor(async () => (await redis.exists(keys.partitions[0].nudge('orchestrator'))) === 0, { timeoutMs: 5_000, what: 'the nudge window to pass' });
    await nudge();
    expect(await nudges()).toBe(before + 2);
  });

  it('given a history longer than one read from its end, then lastEventOfType finds the last of a type however far back, and null for none', async () => {
    const mission = await created();
    const erasures = Array.from({ length: 9 }, (_, i) => ({ type: 'SubjectErased' as const, data: { subjectId: `guest:${i}`, reason: 'test' } }));
    const result = await store.append(mission.id, mission, erasures, { actor: 'test' });
    expect(result.code).toBe(AppendCode.Ok);

    expect(await store.lastEventOfType(mission.id, 'SubjectErased')).toMatchObject({ version: 11, data: { subjectId: 'guest:8' } });
    // Nine events after it: the third read from the end.
    expect(await store.lastEventOfType(mission.id, 'MissionQueued')).toMatchObject({ version: 2 });
    expect(await store.lastEventOfType(mission.id, 'MissionCreated')).toMatchObject({ version: 1 });
    expect(await store.lastEventOfType(mission.id, 'MissionDeadLettered')).toBeNull();
    expect(await store.lastEventOfType('no-such-mission', 'MissionCreated')).toBeNull();
    // Matching: the last of those it holds for, read past later events of the type.
    expect(await store.lastEventOfType(mission.id, 'SubjectErased', (event) => event.data.subjectId === 'guest:1')).toMatchObject({ version: 4 });
    expect(await store.lastEventOfType(mission.id, 'SubjectErased', (event) => event.data.subjectId === 'guest:9')).toBeNull();
    // Newer than a version: what is not among the events after it is null, however far back it is.
    expect(await store.lastEventOfType(mission.id, 'SubjectErased', (event) => event.data.subjectId === 'guest:1', 4)).toBeNull();
    expect(await store.lastEventOfType(mission.id, 'SubjectErased', (event) => event.data.subjectId === 'guest:1', 3)).toMatchObject({ version: 4 });
    expect(await store.lastEventOfType(mission.id, 'MissionCreated', () => true, 1)).toBeNull();
  });

  it('given 20 concurrent appends at the same expected version, then exactly one wins and the others write nothing', async () => {
    const mission = await created();
    const logBefore = await redis.xlen(keys.partitions[0].log);
    const messagesBefore = await redis.xlen(keys.partitions[0].stream('orchestrator'));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.append(mission.id, mission, [{ type: 'MissionAssigned', data: { agentId: `agent-${i}`, attempt: 1 } }], { actor: 'test' }, [
          { kind: 'emit', message: { pattern: 'agent.released', data: { agentId: `agent-${i}`, missionId: mission.id, attempt: 1, by: 'executor' } } },
          { kind: 'count', counter: 'assignments', by: 1 },
        ]),
      ),
    );
    expect(results.filter((r) => r.code === AppendCode.Ok)).toHaveLength(1);
    expect(results.filter((r) => r.code === AppendCode.VersionConflict)).toHaveLength(19);
    expect(results.filter((r) => r.code === AppendCode.VersionConflict).every((r) => 'currentVersion' in r && r.currentVersion === 3)).toBe(true);
    expect(await redis.xlen(keys.partitions[0].log)).toBe(logBefore + 1);
    expect(await redis.xlen(keys.partitions[0].stream('orchestrator'))).toBe(messagesBefore + 1);
    expect(await redis.hget(keys.partitions[0].counters, 'assignments')).toBe('1');
    expect((await store.load(mission.id))?.version).toBe(3);
  });

  it('given an idempotency key used before, then the second create returns the first id and writes nothing', async () => {
    const idem = { kind: 'idempotency' as const, key: 'k1', fingerprint: 'f1', formerFingerprints: [], ttlMs: 60_000 };
    const first = await store.append('idem-1', null, decideCreate(input), { actor: 'test' }, [idem]);
    const logBefore = await redis.xlen(keys.partitions[0].log);
    const second = await store.append('idem-2', null, decideCreate(input), { actor: 'test' }, [idem]);
    expect(first.code).toBe(AppendCode.Ok);
    expect(second).toEqual({ code: AppendCode.Duplicate, missionId: 'idem-1' });
    expect(await redis.xlen(keys.partitions[0].log)).toBe(logBefore);
    expect(await store.load('idem-2')).toBeNull();
  });

  it('given an idempotency key used before with another body fingerprint, then the create is refused as a mismatch and writes nothing', async () => {
    const idem = { kind: 'idempotency' as const, key: 'k-mismatch', fingerprint: 'aa11', formerFingerprints: [], ttlMs: 60_000 };
    await store.append('idem-m1', null, decideCreate(input), { actor: 'test' }, [idem]);
    const logBefore = await redis.xlen(keys.partitions[0].log);
    const other = await store.append('idem-m2', null, decideCreate(input), { actor: 'test' }, [{ ...idem, fingerprint: 'bb22' }]);
    expect(other).toEqual({ code: AppendCode.IdempotencyMismatch, missionId: 'idem-m1' });
    expect(await redis.xlen(keys.partitions[0].log)).toBe(logBefore);
    expect(await store.load('idem-m2')).toBeNull();
  });

  it("given an idempotency record holding one of a body's former fingerprints, then a create with them is the repeat; the record stores only the fingerprint, and another body is refused", async () => {
    const idem = { kind: 'idempotency' as const, key: 'k-former', fingerprint: 'ab12', formerFingerprints: ['cd34', 'ef56'], ttlMs: 60_000 };
    const record = keys.partitions[0].idempotency('k-former');
    expect(await store.append('idem-f1', null, decideCreate(input), { actor: 'test' }, [idem])).toMatchObject({ code: AppendCode.Ok });
    expect(await redis.get(record)).toBe('idem-f1 ab12');
    // As a create made under a previous master key (or before fingerprints were keyed) left it.
    for (const former of idem.formerFingerprints) {
      await redis.set(record, `idem-f1 ${former}`, 'KEEPTTL');
      expect(await store.append('idem-f2', null, decideCreate(input), { actor: 'test' }, [idem])).toEqual({ code: AppendCode.Duplicate, missionId: 'idem-f1' });
      expect(await redis.get(record)).toBe(`idem-f1 ${former}`);
    }
    const logBefore = await redis.xlen(keys.partitions[0].log);
    const other = { ...idem, fingerprint: 'ab99', formerFingerprints: ['cd99', 'ef5'] };
    expect(await store.append('idem-f2', null, decideCreate(input), { actor: 'test' }, [other])).toEqual({
      code: AppendCode.IdempotencyMismatch,
      missionId: 'idem-f1',
    });
    expect(await redis.xlen(keys.partitions[0].log)).toBe(logBefore);
    expect(await store.load('idem-f2')).toBeNull();
  });

  it('given an idempotency record, then it lives the given ttl, and once gone a create at the same mission id is refused as expired', async () => {
    const idem = { kind: 'idempotency' as const, key: 'k-ttl', fingerprint: 'cc33', formerFingerprints: [], ttlMs: 90_000 };
    const first = await store.append('idem-t1', null, decideCreate(input), { actor: 'test' }, [idem]);
    if (first.code !== AppendCode.Ok) throw new Error('create failed');
    const ttl = await redis.pttl(keys.partitions[0].idempotency('k-ttl'));
    expect(ttl).toBeGreaterThan(80_000);
    expect(ttl).toBeLessThanOrEqual(90_000);
    // What PX does when the ttl runs out, without waiting for it.
    await redis.del(keys.partitions[0].idempotency('k-ttl'));
    const again = await store.append('idem-t1', null, decideCreate(input), { actor: 'test' }, [idem]);
    expect(again).toEqual({ code: AppendCode.IdempotencyExpired, missionId: 'idem-t1' });
    expect(await store.load('idem-t1')).toEqual(first.mission);
  });

  it('given a withdrawn idempotency key, then every create with it is refused for the life of an idempotency record; a key a create used first stays its own', async () => {
    const idem = { kind: 'idempotency' as const, key: 'k-withdrawn', fingerprint: 'dd44', formerFingerprints: [], ttlMs: 60_000 };
    expect(await store.withdrawIdempotencyKey('idem-w1', 'k-withdrawn', idem.ttlMs)).toBe(WithdrawCode.Withdrawn);
    expect(await store.withdrawIdempotencyKey('idem-w1', 'k-withdrawn', idem.ttlMs)).toBe(WithdrawCode.WithdrawnBefore);
    // It never expired: a schedule skipped every minute left 1 440 such keys a day for good.
    const ttl = await redis.pttl(keys.partitions[0].idempotency('k-withdrawn'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(idem.ttlMs);
    const logBefore = await redis.xlen(keys.partitions[0].log);
    expect(await store.append('idem-w1', null, decideCreate(input), { actor: 'test' }, [{ ...idem, formerFingerprints: ['dd45', 'dd46'] }])).toEqual({
      code: AppendCode.IdempotencyMismatch,
      missionId: 'idem-w1',
    });
    expect(await redis.xlen(keys.partitions[0].log)).toBe(logBefore);
    expect(await store.load('idem-w1')).toBeNull();

    const used = { ...idem, key: 'k-used' };
    await store.append('idem-w2', null, decideCreate(input), { actor: 'test' }, [used]);
    expect(await store.withdrawIdempotencyKey('idem-w2', 'k-used', idem.ttlMs)).toBe(WithdrawCode.Created);
    expect(await store.append('idem-w3', null, decideCreate(input), { actor: 'test' }, [used])).toEqual({ code: AppendCode.Duplicate, missionId: 'idem-w2' });
    // Its record expired: the mission still tells that a create used the key.
    await redis.del(keys.partitions[0].idempotency('k-used'));
    expect(await store.withdrawIdempotencyKey('idem-w2', 'k-used', idem.ttlMs)).toBe(WithdrawCode.Created);
    expect(await redis.exists(keys.partitions[0].idempotency('k-used'))).toBe(0);
  });

  it('given a withdrawal whose append failed, then it is taken back, unless another withdrawal met it or a create holds the key', async () => {
    const idem = { kind: 'idempotency' as const, key: 'k-released', fingerprint: 'ee55', formerFingerprints: [], ttlMs: 60_000 };
    const record = keys.partitions[0].idempotency('k-released');
    expect(await store.withdrawIdempotencyKey('idem-r1', 'k-released', idem.ttlMs)).toBe(WithdrawCode.Withdrawn);
    expect(await store.releaseWithdrawnIdempotencyKey('idem-r1', 'k-released')).toBe(WithdrawalReleaseCode.Released);
    expect(await redis.exists(record)).toBe(0);
    expect(await store.append('idem-r1', null, decideCreate(input), { actor: 'test' }, [idem])).toMatchObject({ code: AppendCode.Ok });
    // A create holds the key (as after a withdrawal expired): never released.
    expect(await store.releaseWithdrawnIdempotencyKey('idem-r1', 'k-released')).toBe(WithdrawalReleaseCode.Kept);
    expect(await store.append('idem-r2', null, decideCreate(input), { actor: 'test' }, [idem])).toEqual({ code: AppendCode.Duplicate, missionId: 'idem-r1' });

    // Met by a second withdrawal, whose append may rely on it: kept for its life, and still refusing every create.
    const met = { ...idem, key: 'k-met' };
    expect(await store.withdrawIdempotencyKey('idem-r3', 'k-met', met.ttlMs)).toBe(WithdrawCode.Withdrawn);
    expect(await store.withdrawIdempotencyKey('idem-r3', 'k-met', met.ttlMs)).toBe(WithdrawCode.WithdrawnBefore);
    expect(await store.releaseWithdrawnIdempotencyKey('idem-r3', 'k-met')).toBe(WithdrawalReleaseCode.Kept);
    expect(await store.withdrawIdempotencyKey('idem-r3', 'k-met', met.ttlMs)).toBe(WithdrawCode.WithdrawnBefore);
    const ttl = await redis.pttl(keys.partitions[0].idempotency('k-met'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(met.ttlMs);
    expect(await store.append('idem-r3', null, decideCreate(input), { actor: 'test' }, [met])).toEqual({
      code: AppendCode.IdempotencyMismatch,
      missionId: 'idem-r3',
    });
  });

  it('given a lease that is missing, held by another lease request or past its deadline, then the append is refused and nothing changes', async () => {
    // A queue of its own, so that each lease takes the one mission that is ready when it runs.
    const own = new KeyLayout(`${prefix}leases:`);
    const ownStore = new MissionStore(redis, own);
    const queue = new ReadyQueue(redis, own, { ...TEST_QUEUE_ORDER, headStartMsPerPoint: 1_000 });
    const queued = async (id: string) => {
      const result = await ownStore.append(id, null, decideCreate(input), { actor: 'test' }, [{ kind: 'enqueue', score: 1, enqueuedAt: 1, level: 'normal' }]);
      if (result.code !== AppendCode.Ok) throw new Error('create failed');
      return result.mission;
    };
    const assign = [{ type: 'MissionAssigned' as const, data: { agentId: 'agent-x', attempt: 1 } }];
    const tryAssign = (mission: Mission, leaseId: string) =>
      ownStore.append(mission.id, mission, assign, { actor: 'test' }, [{ kind: 'require-lease', leaseId }]);

    const leasedElsewhere = await queued('m-leased');
    expect(await queue.lease(0, 1, 60_000, 'lease-2')).toHaveLength(1);
    const expired = await queued('m-expired');
    expect(await queue.lease(0, 1, 10, 'lease-3', { now: Date.now() - 60_000 })).toHaveLength(1);
    const unleased = await queued('m-unleased');
    const logBefore = await redis.xlen(own.partitions[0].log);

    expect(await tryAssign(unleased, 'lease-1')).toEqual({ code: AppendCode.LeaseLost });
    expect(await tryAssign(leasedElsewhere, 'lease-1')).toEqual({ code: AppendCode.LeaseLost });
    expect(await tryAssign(expired, 'lease-3')).toEqual({ code: AppendCode.LeaseLost });
    expect(await redis.xlen(own.partitions[0].log)).toBe(logBefore);
    expect(await ownStore.load(leasedElsewhere.id)).toEqual(leasedElsewhere);

    expect((await tryAssign(leasedElsewhere, 'lease-2')).code).toBe(AppendCode.Ok);
    expect(await redis.zscore(own.partitions[0].leased, leasedElsewhere.id)).toBeNull();
    expect(await redis.hget(own.partitions[0].leaseOwners, leasedElsewhere.id)).toBeNull();
  });

  it('given an illegal transition, then append throws before writing', async () => {
    const mission = await created();
    const logBefore = await redis.xlen(keys.partitions[0].log);
    await expect(
      store.append(
        mission.id,
        mission,
        [
          {
            type: 'MissionCompleted',
            data: { agentId: 'a', attempt: 1, result: { output: {}, model: 'm', latencyMs: 1, usage: { promptTokens: 1, completionTokens: 1 } } },
          },
        ],
        { actor: 'test' },
      ),
    ).rejects.toBeInstanceOf(IllegalTransitionError);
    expect(await redis.xlen(keys.partitions[0].log)).toBe(logBefore);
  });

  it('given a conflict, then transition reloads and decides again', async () => {
    const mission = await created();
    await store.append(mission.id, mission, [{ type: 'MissionCancelled', data: { reason: 'guest left' } }], { actor: 'test' });
    const outcome = await store.transition(
      mission,
      (m) =>
        m.status === 'queued'
          ? { kind: 'append', events: [{ type: 'MissionAssigned', data: { agentId: 'a', attempt: 1 } }] }
          : { kind: 'skip', reason: m.status },
      { actor: 'test' },
    );
    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'cancelled' });
  });

  it("given a time fixed before the mission's last event, when a transition appends, then its events are dated at that event, not before it", async () => {
    // A sweep fixes its instant before its batch: a mission that moved on meanwhile got a MissionOverdue dated
    // before its MissionReviewRequested, and `?at=` between the two read a state the mission never had.
    const mission = await created();
    const sweptAt = new Date(Date.parse(mission.updatedAt) - 44);
    const outcome = await store.transition(
      mission.id,
      (m, at) => {
        expect(at.toISOString()).toBe(m.updatedAt);
        return { kind: 'append', events: [{ type: 'MissionCancelled', data: { reason: 'guest left' } }] };
      },
      { actor: 'test', now: sweptAt },
    );
    expect(outcome.kind).toBe('appended');
    const times = (await store.history(mission.id)).map((event) => event.at);
    expect(times).toEqual([mission.createdAt, mission.updatedAt, mission.updatedAt]);

    // A time fixed after the last event is the events' time, as before.
    const reopened = await created();
    const later = new Date(Date.parse(reopened.updatedAt) + 1_000);
    const result = await store.append(reopened.id, reopened, [{ type: 'MissionCancelled', data: { reason: 'guest left' } }], { actor: 'test', now: later });
    expect(result.code === AppendCode.Ok && result.mission.updatedAt).toBe(later.toISOString());
  });

  it('given everything written so far, then a replay of the log equals the read model, and a hand edit is found', async () => {
    // Most creates here were appended without their enqueue: queued as their events queue them (as
    // an import's restore does), or verify finds them in neither the ready queue nor a lease.
    const missionIds = await redis.zrange(keys.partitions[0].missionIndex, 0, -1);
    await restoreMissionEffects(redis, store, missionIds, { queueScore: (mission, at) => queueKey(mission, at, TEST_QUEUE_ORDER) });
    // The audit's verify is the product's replay check (`replay verify`); a small batch walks the log in many reads.
    const result = await verifyLog(redis, keys, undefined, { batchSize: 3 });
    expect(result.missions).toBeGreaterThan(5);
    expect(result.findings).toEqual([]);

    const [victim] = await redis.zrange(keys.partitions[0].missionIndex, 0, 0);
    const edited = { ...(await store.load(victim)), title: 'tampered' };
    await redis.hset(keys.mission(victim), 's', JSON.stringify(edited));
    expect((await verifyLog(redis, keys)).findings).toEqual([
      expect.objectContaining({ kind: 'read-model-drift', missionId: victim, detail: expect.stringContaining('s differs') }),
    ]);
  });
});
