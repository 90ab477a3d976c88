import { gapsFoldedAcross, missingVersions, summarize, timeline, stateAt, verifyLog } from '@app/audit';
import { KeyLayout, MissionStore, parseLogEntry, readLog } from '@app/event-store';
import {
  CURRENT_SCHEMA_VERSION,
  decideApprove,
  decideAssign,
  decideComplete,
  decideCreate,
  decideReject,
  decideReviewOverdue,
  decideStart,
  decideVerdict,
  fold,
} from '@app/mission';
import {
  aCreateInput,
  aResult,
  anEvaluation,
  deleteKeysByPrefix,
  testKeyPrefix,
  buildKnownLog,
  KNOWN_MISSIONS,
  knownStepTime,
  MissionHistory,
  testRedis,
} from '@app/testing';

const { ok, retry, dead, cancel } = KNOWN_MISSIONS;

describe('history and time travel (real Redis)', () => {
  const prefix = testKeyPrefix('audit-history');
  const keys = new KeyLayout(prefix);
  const redis = testRedis();
  const store = new MissionStore(redis, keys);

  beforeAll(async () => {
    await buildKnownLog(redis, keys);
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a known mission, then its timeline has exactly the types, versions, actors and summaries', async () => {
    const rows = timeline(await store.history(ok));
    expect(rows.map((r) => [r.version, r.type, r.actor, r.summary])).toEqual([
      [1, 'MissionCreated', 'intake', 'created guest_support "Late check-out request" (normal priority)'],
      [2, 'MissionQueued', 'intake', 'queued (score 34.00)'],
      [3, 'MissionAssigned', 'orchestrator', 'assigned to agent-lena (attempt 1)'],
      [4, 'MissionStarted', 'executor', 'started by agent-lena (attempt 1)'],
      [5, 'MissionCompleted', 'executor', 'completed by agent-lena (attempt 1) with mock-model in 1200 ms'],
      [6, 'MissionEvaluated', 'evaluator', 'evaluated 0.92 pass by rules (guest_support@1)'],
    ]);
    expect(rows.map((r) => r.at)).toEqual([1, 1, 4, 6, 8, 10].map((step) => knownStepTime(step).toISOString()));
    expect(new Set(rows.map((r) => r.correlationId))).toEqual(new Set([`corr-${ok}`]));
    expect(rows[0].causationId).toBe(`corr-${ok}`);
  });

  it('given a reviewed mission, then its timeline names the rule, the rejection with its feedback, the overdue review and the edited approval', () => {
    const history = new MissionHistory({ actor: 'front-office-lead' });
    history.append(decideCreate(aCreateInput()));
    for (const attempt of [1, 2]) {
      history.apply(decideAssign(history.mission, `agent-${attempt}`));
      history.apply(decideStart(history.mission, attempt));
      history.apply(decideComplete(history.mission, attempt, aResult()));
      history.apply(decideVerdict(history.mission, anEvaluation(attempt, true), 3, { reviewRule: 'guest-replies' }));
      if (attempt === 1) history.apply(decideReject(history.mission, 'Offer 13:00 instead.\u001b[2J', 3));
    }
    history.apply(decideReviewOverdue(history.mission, new Date('2030-01-01T00:00:00Z'), 60_000));
    history.apply(decideApprove(history.mission, { note: 'Checked with housekeeping', output: { reply: 'edited' } }));
    const summaries = timeline(history.events).map((row) => row.summary);
    const lastRequest = history.events.filter((event) => event.type === 'MissionReviewRequested').at(-1);
    expect(summaries.filter((summary) => /review|reject|approved|held/.test(summary))).toEqual([
      'evaluated 0.90 pass by judge-model (rubric-v1), held for review',
      'review requested by rule "guest-replies" (attempt 1)',
      'rejected in review round 1 (attempt 1): Offer 13:00 instead.\\u001b[2J',
      'queued again after a rejection (score 34.00)',
      'evaluated 0.90 pass by judge-model (rubric-v1), held for review',
      'review requested by rule "guest-replies" (attempt 2)',
      `review overdue: waiting since ${lastRequest?.at ?? ''}, over 60000 ms`,
      'approved with edits (attempt 2): Checked with housekeeping',
    ]);
    expect(timeline(history.events).at(-1)?.actor).toBe('front-office-lead');
  });

  it('given the retried, dead-lettered and cancelled missions, then their summaries tell what happened', async () => {
    const retried = timeline(await store.history(retry)).map((r) => r.summary);
    expect(retried).toEqual([
      'created maintenance "Leaking tap in room 118" (high priority)',
      'queued (score 61.00)',
      'assigned to agent-omar (attempt 1)',
      'started by agent-omar (attempt 1)',
      'failed on agent-omar (attempt 1): LLM timeout after 30 s',
      'queued for retry (score 61.00)',
      'assigned to agent-lena (attempt 2)',
      'started by agent-lena (attempt 2)',
      'completed by agent-lena (attempt 2) with mock-model in 1200 ms',
      'evaluated 0.55 fail by rules (maintenance@1): does not say when the guest is told',
      'queued for retry (score 61.00): does not say when the guest is told',
      'assigned to agent-omar (attempt 3)',
      'started by agent-omar (attempt 3)',
      'completed by agent-omar (attempt 3) with mock-model in 1200 ms',
      'evaluated 0.88 pass by rules (maintenance@1)',
    ]);
    expect(
      timeline(await store.history(dead))
        .slice(-2)
        .map((r) => r.summary),
    ).toEqual(['evaluated 0.31 fail by rules (pricing@1): no rate given per night', 'dead-lettered after 1 attempt: no rate given per night']);
    expect(
      timeline(await store.history(cancel))
        .map((r) => r.summary)
        .slice(-1),
    ).toEqual(['cancelled: guest checked out early']);
  });

  it('given a time between two events, then stateAt folds only the events up to it', async () => {
    const events = await store.history(ok);
    // v3 (assigned) happened at step 4, v4 (started) at step 6.
    const between = stateAt(events, { at: knownStepTime(5) });
    expect(between).toMatchObject({ id: ok, version: 3, status: 'assigned', assignedAgentId: 'agent-lena', attempts: 1 });
    expect(stateAt(events, { at: knownStepTime(4) })?.version).toBe(3);
    expect(stateAt(events, { at: new Date(knownStepTime(4).getTime() - 1) })?.version).toBe(2);
    expect(stateAt(events, { at: knownStepTime(0) })).toBeNull();
  });

  it('given an event missing from a history, then the gap is named, and only a fold that passes it crosses it', async () => {
    const events = (await store.history(ok)).filter((event) => event.version !== 3);
    expect(missingVersions(events)).toEqual([{ from: 3, to: 3 }]);
    expect(missingVersions((await store.history(ok)).filter((event) => event.version < 2 || event.version > 4))).toEqual([{ from: 2, to: 4 }]);
    expect(gapsFoldedAcross(events, { version: 2 })).toEqual([]);
    expect(gapsFoldedAcross(events, { version: 3 })).toEqual([]);
    expect(gapsFoldedAcross(events, { version: 4 })).toEqual([{ from: 3, to: 3 }]);
    // v4 (started) happened at step 6.
    expect(gapsFoldedAcross(events, { at: knownStepTime(5) })).toEqual([]);
    expect(gapsFoldedAcross(events, { at: knownStepTime(6) })).toEqual([{ from: 3, to: 3 }]);
    expect(gapsFoldedAcross(events)).toEqual([{ from: 3, to: 3 }]);
    expect(gapsFoldedAcross(await store.history(ok))).toEqual([]);
    // The last one lost: only the event list, 6 long, says there was a v6, at a time no event tells.
    const withoutLast = (await store.history(ok)).filter((event) => event.version !== 6);
    expect(missingVersions(withoutLast)).toEqual([]);
    expect(missingVersions(withoutLast, 6)).toEqual([{ from: 6, to: 6 }]);
    expect(gapsFoldedAcross(withoutLast, { version: 5 }, 6)).toEqual([]);
    expect(gapsFoldedAcross(withoutLast, { version: 6 }, 6)).toEqual([{ from: 6, to: 6 }]);
    expect(gapsFoldedAcross(withoutLast, {}, 6)).toEqual([{ from: 6, to: 6 }]);
    expect(gapsFoldedAcross(withoutLast, { at: knownStepTime(7) }, 6)).toEqual([]);
  });

  it('given a version, then stateAt folds events up to it; without a point it is the read model', async () => {
    const events = await store.history(ok);
    expect(stateAt(events, { version: 3 })).toEqual(stateAt(events, { at: knownStepTime(5) }));
    expect(stateAt(events, { version: 3 })).toEqual(fold(events.slice(0, 3)));
    expect(stateAt(events, { version: 5, at: knownStepTime(7) })?.version).toBe(4);
    expect(stateAt(events)).toEqual(await store.load(ok));
    expect(() => stateAt(events, { at: new Date('nonsense') })).toThrow(RangeError);
  });

  it('given a v1 event stored as raw JSON without schemaVersion, then parseLogEntry reads it as the current version', async () => {
    const v1 = {
      eventId: 'legacy-1',
      type: 'MissionCreated',
      missionId: 'm-legacy',
      version: 1,
      at: '2024-12-01T10:00:00.000Z',
      actor: 'intake',
      correlationId: 'corr-legacy',
      causationId: 'corr-legacy',
      data: { type: 'maintenance', title: 'Old boiler', description: '', priority: 'low', requiredSkills: ['facility_maintenance'], payload: {} },
    };
    const legacyKeys = new KeyLayout(`${prefix}legacy:`);
    const id = await redis.xadd(legacyKeys.partitions[0].log, '*', 'm', v1.missionId, 'e', JSON.stringify(v1));
    const [[, fields]] = (await redis.xrange(legacyKeys.partitions[0].log, id ?? '-', id ?? '+')) as [string, string[]][];

    const event = parseLogEntry(fields);
    expect(event).toEqual({ ...v1, schemaVersion: CURRENT_SCHEMA_VERSION });
    expect(summarize(event)).toBe('created maintenance "Old boiler" (low priority)');
    expect(stateAt([event])).toMatchObject({ id: 'm-legacy', status: 'created', version: 1 });
    const batches = [];
    for await (const batch of readLog(redis, legacyKeys.partitions[0].log)) batches.push(...batch.events);
    expect(batches.map((e) => e.schemaVersion)).toEqual([CURRENT_SCHEMA_VERSION]);
  });

  it('given a stored event from a newer schema, then reading it fails clearly instead of guessing', async () => {
    const newer = new KeyLayout(`${prefix}newer:`);
    await redis.xadd(
      newer.partitions[0].log,
      '*',
      'm',
      'm-x',
      'e',
      JSON.stringify({ eventId: 'e-9', type: 'MissionCreated', missionId: 'm-x', version: 1, schemaVersion: CURRENT_SCHEMA_VERSION + 1 }),
    );
    const result = await verifyLog(redis, newer);
    expect(result.findings).toContainEqual(
      expect.objectContaining({ kind: 'unreplayable', missionId: 'm-x', detail: expect.stringContaining('newer than this build') }),
    );
  });
});
