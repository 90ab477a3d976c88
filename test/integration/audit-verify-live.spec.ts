import {
  ChainChecker,
  compareReadModel,
  COMPARE_PHASE,
  LogCursor,
  LogFollower,
  parseStored,
  Progress,
  READ_LOG_PHASE,
  ReplayFold,
  sha1Hex,
  verifyLog,
} from '@app/audit';
import { AppendCode, AppendResult, KeyLayout, MISSION_HASH_FIELDS, MissionStore } from '@app/event-store';
import { decideAssign, decideCreate, Decision, Mission, NewMissionEvent } from '@app/mission';
import { aCreateInput, enqueuedAt, deleteKeysByPrefix, testKeyPrefix, testRedis } from '@app/testing';

/** Missions the read model is compared for per MULTI (COMPARE_BATCH): the test needs a second batch. */
const COMPARE_BATCH = 2_000;
/** Catch-ups after which a read at the walk's head gives up (MAX_CATCH_UPS). */
const MAX_CATCH_UPS = 50;

const eventsOf = (decision: Decision): NewMissionEvent[] => {
  if (decision.kind !== 'append') throw new Error(`expected events, got a skip: ${decision.reason}`);
  return decision.events;
};

/**
 * `replay verify` on a log that is appended to while it runs, as on a busy healthy system: no
 * false alarm. The appends are made from verify's own progress listener, on verify's connection:
 * the append script is the append's first command, sent before verify's next one, so what verify
 * reads after each step is fixed, with no timing involved.
 */
describe('verify on a live log (real Redis)', () => {
  // Without auto-pipelining (which testRedisConnection has, as the services do): it would hold an
  // append back to the next tick, behind verify's next MULTI, and the order would be lost.
  const redis = testRedis();
  const keys = new KeyLayout(testKeyPrefix('audit-verify-live'), 1);
  const store = new MissionStore(redis, keys);

  const still = new KeyLayout(testKeyPrefix('audit-verify-live-moving'), 1);
  const heads = new KeyLayout(testKeyPrefix('audit-verify-live-heads'), 1);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
    await deleteKeysByPrefix(redis, still.prefix);
    await deleteKeysByPrefix(redis, heads.prefix);
    await redis.quit();
  });

  it('given missions created and moved on while it compares, past every catch-up, then it reports no drift', async () => {
    // A first batch of missions, and a second with enough missions to move one on per catch-up.
    const missions: Mission[] = [];
    for (let i = 0; i < COMPARE_BATCH + 2 * MAX_CATCH_UPS; i++) {
      const created = await store.append(`m-${String(i).padStart(4, '0')}`, null, decideCreate(aCreateInput()), { actor: 'test' }, enqueuedAt());
      if (created.code !== AppendCode.Ok) throw new Error(`create failed: ${created.code}`);
      missions.push(created.mission);
    }
    const secondBatch = missions.slice(COMPARE_BATCH);
    const appends: Promise<AppendResult>[] = [];
    /** Not awaited: the listener is synchronous, and the append script goes out on this connection at once. */
    const append = (missionId: string, mission: Mission | null, events: NewMissionEvent[]): void => {
      appends.push(store.append(missionId, mission, events, { actor: 'live' }));
    };
    /** The late mission as its create left it; set when the create's reply arrives, long before it moves on. */
    let late: Mission | null = null;
    let live = false;
    const onProgress = ({ phase, done, total }: Progress): void => {
      if (phase === COMPARE_PHASE && done === COMPARE_BATCH && (total ?? 0) > COMPARE_BATCH && !live && !late) {
        // Between the two batches: a new mission, which the next read's first catch-up folds in…
        const created = store.append('m-late', null, decideCreate(aCreateInput()), { actor: 'live' }, enqueuedAt());
        appends.push(created);
        void created.then((outcome) => (late = outcome.code === AppendCode.Ok ? outcome.mission : null));
        live = true;
      } else if (phase === READ_LOG_PHASE && live) {
        // …and at every catch-up one more event on a mission of the batch being read, so the log
        // has moved on after each of them, past the bounded catch-ups of one read.
        const next = secondBatch.shift();
        if (next) append(next.id, next, eventsOf(decideAssign(next, 'agent-1')));
      } else if (phase === COMPARE_PHASE && done === total && live) {
        // The load stops once the batches are compared, after one more event on the late mission,
        // which the walk met at its create while comparing.
        live = false;
        if (late) append(late.id, late, eventsOf(decideAssign(late, 'agent-1')));
      }
    };

    const result = await verifyLog(redis, keys, onProgress);

    const appended = await Promise.all(appends);
    expect(appended.every((outcome) => outcome.code === AppendCode.Ok)).toBe(true);
    // The load reached past the bounded catch-ups of one read.
    expect(appended.length).toBeGreaterThan(MAX_CATCH_UPS);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
    // Once the load stopped, what changed was compared again at the walk's head: nothing left unchecked.
    expect(result.notChecked).toEqual([]);
    // The late mission moved on after the walk met it.
    const met = late as Mission | null;
    expect((await store.load('m-late'))?.version).toBe((met?.version ?? 0) + 1);
  });

  it('given a log that never stands still, then a mission read ahead of the walk is not checked, not drift, and real drift is still reported', async () => {
    const partition = still.partitions[0];
    const movingStore = new MissionStore(redis, still);
    const created = await Promise.all(['m-ahead', 'm-damaged'].map((id) => movingStore.append(id, null, decideCreate(aCreateInput()), { actor: 'test' })));
    const fold = new ReplayFold({ keepLogIds: true });
    for await (const batch of new LogCursor(redis, partition.log).batches()) for (const entry of batch) fold.add(entry, parseStored(entry.json));
    // After the walk: one mission moves on, the other's status is damaged.
    const ahead = created[0].code === AppendCode.Ok ? created[0].mission : null;
    if (!ahead) throw new Error('create failed');
    expect((await movingStore.append(ahead.id, ahead, eventsOf(decideAssign(ahead, 'agent-1')), { actor: 'live' })).code).toBe(AppendCode.Ok);
    await redis.hset(partition.mission('m-damaged'), MISSION_HASH_FIELDS.status, 'succeeded');
    // Every catch-up finds more, and the head is never the walk's: each read gives up as moving.
    const neverStill: LogFollower = { headHash: 'never the head', catchUp: async () => 1 };

    const { findings, notChecked } = await compareReadModel(redis, partition, fold, neverStill);

    expect(findings.map(({ kind, missionId, detail }) => ({ kind, missionId, detail }))).toEqual([
      { kind: 'read-model-drift', missionId: 'm-damaged', detail: expect.stringContaining('st is succeeded') },
    ]);
    expect(notChecked).toEqual([
      { missionId: 'm-ahead', detail: expect.stringContaining('changing while verify ran') },
      { missionId: '', detail: expect.stringContaining('status counters: changing while verify ran') },
    ]);
  });

  it('given a log that never stands still, then heads read ahead of the walk are not checked, not findings, and a changed h is still reported', async () => {
    const partition = heads.partitions[0];
    const headStore = new MissionStore(redis, heads);
    const created = await Promise.all(['m-ahead', 'm-damaged'].map((id) => headStore.append(id, null, decideCreate(aCreateInput()), { actor: 'test' })));
    const checker = new ChainChecker();
    let end: string | null = null;
    for await (const batch of new LogCursor(redis, partition.log).batches()) {
      for (const entry of batch) {
        checker.add(entry, sha1Hex(entry.json), parseStored(entry.json));
        end = entry.logId;
      }
    }
    // After the walk: one mission moves on (and the log head with it), one is created, the other's h is changed.
    const ahead = created[0].code === AppendCode.Ok ? created[0].mission : null;
    if (!ahead) throw new Error('create failed');
    expect((await headStore.append(ahead.id, ahead, eventsOf(decideAssign(ahead, 'agent-1')), { actor: 'live' })).code).toBe(AppendCode.Ok);
    expect((await headStore.append('m-new', null, decideCreate(aCreateInput()), { actor: 'live' })).code).toBe(AppendCode.Ok);
    await redis.hset(partition.mission('m-damaged'), MISSION_HASH_FIELDS.lastEventHash, 'f'.repeat(40));
    // Every catch-up finds more, and the head is never the walk's: each read gives up as moving.
    const neverStill: LogFollower = { headHash: 'never the head', catchUp: async () => 1 };

    await checker.checkHeads(redis, partition, neverStill);
    const findings = await checker.findings(redis, partition, end);

    expect(findings.map(({ kind, missionId }) => ({ kind, missionId }))).toEqual([{ kind: 'head-mismatch', missionId: 'm-damaged' }]);
    expect(checker.notChecked).toEqual([
      { missionId: 'm-ahead', detail: expect.stringContaining('changing while verify ran') },
      { missionId: 'm-new', detail: expect.stringContaining('created while verify ran') },
      { missionId: '', detail: expect.stringContaining('log head: changing while verify ran') },
    ]);
  });
});
