import * as fc from 'fast-check';
import { Effect, IdempotencyClaim } from '@app/event-store';
import {
  Decision,
  decideApprove,
  decideAssign,
  decideCancel,
  decideComplete,
  decideCreate,
  decideDue,
  decideEraseSubject,
  decideFailure,
  decideLateReply,
  decideReject,
  decideRequeue,
  decideReviewOverdue,
  decideOverdue,
  decideStart,
  decideVerdict,
  Mission,
  MISSION_EVENT_TYPES,
  MISSION_STATUSES,
  MissionEvent,
  NOT_JUDGED,
} from '@app/mission';
import { aCreateInput, aResult, anEvaluation, MissionHistory } from '@app/testing';
import { DEAD_LETTER_EVENT_TYPES, effectsOf } from './mission-effects';
import { deadLetterPlaceAfter } from './restore-effects';

const MAX_ATTEMPTS = 2;
const queueScore = (mission: Mission, enqueuedAt: number) => enqueuedAt - mission.priorityScore;

/** Applies a decision and returns the effects its events have, as the pipeline computes them. */
function effectsOfStep(
  history: MissionHistory,
  decision: Decision | ReturnType<typeof decideCreate>,
  extra: { leaseId?: string; idempotency?: IdempotencyClaim } = {},
): Effect[] {
  const previous: Mission | null = history.state;
  const seen = history.events.length;
  const next = Array.isArray(decision) ? history.append(decision) : history.apply(decision);
  const appended = history.events.slice(seen);
  return effectsOf(appended, { previous, next, now: Date.parse(appended[0].at), queueScore, ...extra });
}

const enqueued = (mission: Mission): Effect[] => {
  const at = Date.parse(mission.updatedAt);
  return [
    { kind: 'enqueue', score: queueScore(mission, at), enqueuedAt: at, level: mission.priority },
    { kind: 'count', counter: 'enqueued', by: 1 },
    { kind: 'nudge-orchestrator' },
  ];
};

// Histories use `stepMs: 0`: the events of one step share a time, as the store gives them.
function running(agentId = 'agent-1'): MissionHistory {
  const history = new MissionHistory({ stepMs: 0 });
  history.append(decideCreate(aCreateInput()));
  history.apply(decideAssign(history.mission, agentId));
  history.apply(decideStart(history.mission, history.mission.attempts));
  return history;
}

describe('what each mission event causes (MISSION_EFFECTS)', () => {
  test('given a new mission with an idempotency key, when it is created, then the record is claimed and the mission queued, counted and announced', () => {
    const history = new MissionHistory({ stepMs: 0 });
    const idempotency = { key: 'api:ops:k-1', fingerprint: 'f', formerFingerprints: ['e'], ttlMs: 1_000 };
    const effects = effectsOfStep(history, decideCreate(aCreateInput()), { idempotency });
    expect(effects).toEqual([{ kind: 'idempotency', ...idempotency }, ...enqueued(history.mission)]);
  });

  test('given a queued mission, when it is assigned on a lease, then the lease must still hold and the executor gets the mission', () => {
    const history = new MissionHistory({ stepMs: 0 });
    history.append(decideCreate(aCreateInput()));
    expect(effectsOfStep(history, decideAssign(history.mission, 'agent-1'), { leaseId: 'lease-7' })).toEqual([
      { kind: 'require-lease', leaseId: 'lease-7' },
      { kind: 'emit-mission', pattern: 'mission.assigned' },
    ]);
  });

  test('given an assigned mission, when it starts, then nothing else happens; when it completes, then the evaluator gets it', () => {
    const history = new MissionHistory({ stepMs: 0 });
    history.append(decideCreate(aCreateInput()));
    history.apply(decideAssign(history.mission, 'agent-1'));
    expect(effectsOfStep(history, decideStart(history.mission, 1))).toEqual([]);
    expect(effectsOfStep(history, decideComplete(history.mission, 1, aResult()))).toEqual([{ kind: 'emit-mission', pattern: 'mission.completed' }]);
  });

  test('given a running attempt cancelled, when its billed reply is recorded late, then nothing else happens: its slot went back with the cancel', () => {
    const history = running();
    effectsOfStep(history, decideCancel(history.mission, 'guest left'));
    const late = { attempt: 1, agentId: 'agent-1', billed: { usage: { promptTokens: 5, completionTokens: 2 } }, runId: 'run-1' };
    expect(effectsOfStep(history, decideLateReply(history.mission, late))).toEqual([]);
    expect(history.mission.status).toBe('cancelled');
  });

  test('given a running attempt with attempts left, when it fails, then the agent is released and the next attempt is queued in the same step', () => {
    const history = running();
    const effects = effectsOfStep(history, decideFailure(history.mission, 1, 'timeout', MAX_ATTEMPTS));
    expect(history.mission.status).toBe('queued');
    expect(effects).toEqual([
      { kind: 'emit', message: { pattern: 'agent.released', data: { agentId: 'agent-1', missionId: history.mission.id, attempt: 1, by: 'executor' } } },
      ...enqueued(history.mission),
    ]);
  });

  test('given the last attempt running, when it fails, then the agent is released and the mission dead-lettered', () => {
    const history = running();
    const effects = effectsOfStep(history, decideFailure(history.mission, 1, 'timeout', 1));
    expect(history.mission.status).toBe('dead_lettered');
    expect(effects).toEqual([
      { kind: 'emit', message: { pattern: 'agent.released', data: { agentId: 'agent-1', missionId: history.mission.id, attempt: 1, by: 'executor' } } },
      // The reason its MissionDeadLettered gives goes with its entry, so the dead-letter list reads no log.
      { kind: 'dead-letter', at: Date.parse(history.mission.updatedAt), reason: 'failed 1 of 1 attempts' },
    ]);
  });

  test('given a completed attempt, when it passes, then the agent is released with its credit and nothing is queued', () => {
    const history = running();
    history.apply(decideComplete(history.mission, 1, aResult()));
    const effects = effectsOfStep(history, decideVerdict(history.mission, anEvaluation(1, true, { score: 0.9 }), MAX_ATTEMPTS));
    expect(history.mission.status).toBe('succeeded');
    expect(effects).toEqual([
      {
        kind: 'emit',
        message: {
          pattern: 'agent.released',
          data: { agentId: 'agent-1', missionId: history.mission.id, attempt: 1, credit: { delta: 9, score: 0.9, passed: true }, by: 'evaluator' },
        },
      },
    ]);
  });

  test('given a completed attempt no judge could see (NOT_JUDGED), when it fails, then the agent is released without a credit and the next attempt is queued', () => {
    const history = running();
    history.apply(decideComplete(history.mission, 1, aResult()));
    const effects = effectsOfStep(history, decideVerdict(history.mission, anEvaluation(1, false, { score: 0, judge: NOT_JUDGED }), MAX_ATTEMPTS));
    expect(effects).toEqual([
      { kind: 'emit', message: { pattern: 'agent.released', data: { agentId: 'agent-1', missionId: history.mission.id, attempt: 1, by: 'evaluator' } } },
      ...enqueued(history.mission),
    ]);
  });

  test('given a completed attempt with attempts left, when it fails its evaluation, then the agent loses credit and the next attempt is queued', () => {
    const history = running();
    history.apply(decideComplete(history.mission, 1, aResult()));
    const effects = effectsOfStep(history, decideVerdict(history.mission, anEvaluation(1, false, { score: 0.4 }), MAX_ATTEMPTS));
    expect(history.mission).toMatchObject({ status: 'queued', feedback: expect.any(String) });
    expect(effects).toEqual([
      {
        kind: 'emit',
        message: {
          pattern: 'agent.released',
          data: { agentId: 'agent-1', missionId: history.mission.id, attempt: 1, credit: { delta: -5, score: 0.4, passed: false }, by: 'evaluator' },
        },
      },
      ...enqueued(history.mission),
    ]);
  });

  test('given a running mission, when it is cancelled, then it leaves the queues and its agent is released; a queued one frees no agent', () => {
    const history = running('agent-7');
    expect(effectsOfStep(history, decideCancel(history.mission, 'guest left'))).toEqual([
      { kind: 'leave-queue' },
      { kind: 'leave-dead-letters' },
      { kind: 'emit', message: { pattern: 'agent.released', data: { agentId: 'agent-7', missionId: history.mission.id, attempt: 1, by: 'intake' } } },
    ]);
    const queued = new MissionHistory({ stepMs: 0 });
    queued.append(decideCreate(aCreateInput()));
    expect(effectsOfStep(queued, decideCancel(queued.mission, 'not needed'))).toEqual([{ kind: 'leave-queue' }, { kind: 'leave-dead-letters' }]);
  });

  test("given a mission about two subjects, when it is created, then it joins both subjects' indexes in the same step; an erasure cancels it there too", () => {
    const history = new MissionHistory({ stepMs: 0 });
    const effects = effectsOfStep(history, decideCreate(aCreateInput({ subjects: ['guest:anna', 'guest:bob'] })));
    expect(effects.slice(0, 2)).toEqual([
      { kind: 'index-subject', subject: 'guest:anna' },
      { kind: 'index-subject', subject: 'guest:bob' },
    ]);
    // Cancelled, it counts its retention from now: guest:bob, who is not erased, is still named in it.
    expect(effectsOfStep(history, decideEraseSubject(history.mission, 'guest:anna', 'request'))).toEqual([
      { kind: 'leave-queue' },
      { kind: 'leave-dead-letters' },
      { kind: 'retain', missionType: 'guest_support', at: Date.parse(history.mission.updatedAt) },
    ]);
  });

  test('given a dead letter, when an operator requeues it, then it leaves the dead letters and is queued, counted and announced', () => {
    const history = running();
    history.apply(decideFailure(history.mission, 1, 'boom', 1));
    const effects = effectsOfStep(history, decideRequeue(history.mission, 'fixed the rate floor'));
    expect(effects).toEqual([{ kind: 'leave-dead-letters' }, ...enqueued(history.mission)]);
  });

  describe('reviews', () => {
    function awaitingReview(): MissionHistory {
      const history = running();
      history.apply(decideComplete(history.mission, 1, aResult()));
      return history;
    }

    test('given a passing attempt the policy holds, when judged, then the agent is released with its credit and the mission enters the review inbox, not the queue', () => {
      const history = awaitingReview();
      const effects = effectsOfStep(
        history,
        decideVerdict(history.mission, anEvaluation(1, true, { score: 0.9 }), MAX_ATTEMPTS, { reviewRule: 'guest-replies' }),
      );
      expect(history.mission.status).toBe('awaiting_review');
      expect(effects).toEqual([
        {
          kind: 'emit',
          message: {
            pattern: 'agent.released',
            data: { agentId: 'agent-1', missionId: history.mission.id, attempt: 1, credit: { delta: 9, score: 0.9, passed: true }, by: 'evaluator' },
          },
        },
        { kind: 'await-review', at: Date.parse(history.mission.updatedAt) },
      ]);
    });

    function inReview(): MissionHistory {
      const history = awaitingReview();
      history.apply(decideVerdict(history.mission, anEvaluation(1, true), MAX_ATTEMPTS, { reviewRule: 'guest-replies' }));
      return history;
    }

    test('given a mission awaiting review, when approved, then it only leaves the inbox: its slot went back at the verdict', () => {
      const history = inReview();
      expect(effectsOfStep(history, decideApprove(history.mission, { output: { reply: 'edited' } }))).toEqual([{ kind: 'leave-reviews' }]);
    });

    test('given a mission awaiting review, when rejected with rounds left, then it leaves the inbox and is queued, counted and announced like a retry', () => {
      const history = inReview();
      const effects = effectsOfStep(history, decideReject(history.mission, 'add the parking fee', 3));
      expect(effects).toEqual([{ kind: 'leave-reviews' }, ...enqueued(history.mission)]);
    });

    test('given the last review round, when rejected, then it leaves the inbox for the dead letters', () => {
      const history = inReview();
      const effects = effectsOfStep(history, decideReject(history.mission, 'still wrong', 1));
      expect(effects).toEqual([
        { kind: 'leave-reviews' },
        { kind: 'dead-letter', at: Date.parse(history.mission.updatedAt), reason: 'rejected in 1 of 1 review rounds' },
      ]);
    });

    test('given a mission awaiting review, when it is overdue, then it stays in the inbox and is no longer watched; when cancelled, then it leaves the inbox and frees no agent', () => {
      const history = inReview();
      const requestedAt = Date.parse(history.mission.review?.requestedAt ?? '');
      expect(effectsOfStep(history, decideReviewOverdue(history.mission, new Date(requestedAt + 1_000), 1_000))).toEqual([{ kind: 'leave-review-deadlines' }]);
      expect(effectsOfStep(history, decideCancel(history.mission, 'guest left'))).toEqual([
        { kind: 'leave-queue' },
        { kind: 'leave-dead-letters' },
        { kind: 'leave-reviews' },
      ]);
    });
  });

  test('given a new mission with a deadline, when it is created, then it is watched for that deadline', () => {
    const history = new MissionHistory({ stepMs: 0 });
    const deadline = '2030-01-01T12:00:00.000Z';
    const effects = effectsOfStep(history, decideCreate(aCreateInput({ deadline })));
    expect(effects).toEqual([{ kind: 'watch-deadline', deadline: Date.parse(deadline) }, ...enqueued(history.mission)]);
  });

  test('given a watched mission past its deadline, when found overdue, then it is counted overdue instead of watched; when it finishes, then neither', () => {
    const history = new MissionHistory({ stepMs: 0 });
    history.append(decideCreate(aCreateInput({ deadline: '2020-01-01T00:00:00.000Z' })));
    const found = effectsOfStep(history, decideOverdue(history.mission, new Date('2020-01-01T00:00:01.000Z')));
    expect(found).toEqual([
      { kind: 'overdue', at: Date.parse(history.mission.updatedAt) },
      { kind: 'count', counter: 'overdue', by: 1 },
    ]);
    expect(effectsOfStep(history, decideCancel(history.mission, 'guest left'))).toEqual([
      { kind: 'leave-queue' },
      { kind: 'leave-dead-letters' },
      { kind: 'leave-deadlines' },
    ]);
  });

  test('given a mission with a deadline, when it succeeds, then it leaves the deadline watch; a mission without one has nothing to leave', () => {
    for (const deadline of ['2030-01-01T12:00:00.000Z', undefined]) {
      const history = new MissionHistory({ stepMs: 0 });
      history.append(decideCreate(aCreateInput(deadline ? { deadline } : {})));
      history.apply(decideAssign(history.mission, 'agent-1'));
      history.apply(decideStart(history.mission, 1));
      history.apply(decideComplete(history.mission, 1, aResult()));
      const effects = effectsOfStep(history, decideVerdict(history.mission, anEvaluation(1, true), MAX_ATTEMPTS));
      expect(effects.some((effect) => effect.kind === 'leave-deadlines')).toBe(deadline !== undefined);
    }
  });

  test('given a mission about data subjects, when it reaches a final status, then its retention counts from then, once; one about none is not retained', () => {
    for (const subjects of [['guest:4711'], undefined]) {
      const history = new MissionHistory({ stepMs: 1_000 });
      history.append(decideCreate(aCreateInput({ type: 'pricing', subjects })));
      history.apply(decideAssign(history.mission, 'agent-1'));
      history.apply(decideStart(history.mission, 1));
      history.apply(decideComplete(history.mission, 1, aResult()));
      const finished = effectsOfStep(history, decideVerdict(history.mission, anEvaluation(1, true), MAX_ATTEMPTS));
      const retained = finished.filter((effect) => effect.kind === 'retain');
      expect(retained).toEqual(subjects ? [{ kind: 'retain', missionType: 'pricing', at: Date.parse(history.mission.updatedAt) }] : []);
      if (subjects) {
        // An erasure later on appends to the finished mission: no second start of its retention.
        expect(effectsOfStep(history, decideEraseSubject(history.mission, 'guest:4711', 'asked by the guest'))).toEqual([]);
      }
    }
    const cancelled = new MissionHistory({ stepMs: 0 });
    cancelled.append(decideCreate(aCreateInput({ type: 'maintenance', subjects: ['guest:1', 'guest:2'] })));
    expect(effectsOfStep(cancelled, decideCancel(cancelled.mission, 'guest left'))).toContainEqual({
      kind: 'retain',
      missionType: 'maintenance',
      at: Date.parse(cancelled.mission.updatedAt),
    });
  });

  test('given a create with a later start, when decided, then the mission waits in the schedule; when due, it leaves it and is queued; cancelled while waiting, it leaves it too', () => {
    const history = new MissionHistory({ stepMs: 0 });
    const notBefore = '2030-01-01T07:00:00.000Z';
    expect(effectsOfStep(history, decideCreate(aCreateInput({ notBefore }), new Date('2030-01-01T06:00:00.000Z')))).toEqual([
      { kind: 'schedule', at: Date.parse(notBefore), reason: 'delayed' },
    ]);
    expect(effectsOfStep(history, decideDue(history.mission, new Date(notBefore)))).toEqual([{ kind: 'leave-schedule' }, ...enqueued(history.mission)]);

    const waiting = new MissionHistory({ stepMs: 0 });
    waiting.append(decideCreate(aCreateInput({ notBefore })));
    expect(effectsOfStep(waiting, decideCancel(waiting.mission, 'not needed'))).toEqual([
      { kind: 'leave-queue' },
      { kind: 'leave-dead-letters' },
      { kind: 'leave-schedule' },
    ]);
  });

  test('given a failed attempt with a backoff, when decided, then the agent is released and the retry waits in the backoff set, not the ready queue', () => {
    const history = running('agent-3');
    const backoff = { baseMs: 1_000, maxMs: 8_000, now: new Date() };
    const effects = effectsOfStep(history, decideFailure(history.mission, 1, 'boom', MAX_ATTEMPTS, { backoff }));
    expect(effects).toEqual([
      { kind: 'emit', message: { pattern: 'agent.released', data: { agentId: 'agent-3', missionId: history.mission.id, attempt: 1, by: 'executor' } } },
      { kind: 'schedule', at: Date.parse(history.mission.notBefore ?? ''), reason: 'retry' },
    ]);
  });
});

describe('the event types that touch the dead letters (DEAD_LETTER_EVENT_TYPES)', () => {
  const DEAD_LETTER_KINDS: ReadonlySet<Effect['kind']> = new Set<Effect['kind']>(['dead-letter', 'leave-dead-letters']);
  const base = running();
  const aMission = base.mission;
  const anEvent = base.events[0];
  /** Whatever a rule may read of an event's data, of any type, any value or none. */
  const anyData = fc.record(
    {
      agentId: fc.string(),
      attempt: fc.integer({ min: 0, max: 5 }),
      score: fc.double({ min: 0, max: 1, noNaN: true }),
      passed: fc.boolean(),
      judge: fc.constantFrom('mock', NOT_JUDGED),
      reason: fc.string(),
      deadline: fc.constantFrom('2030-01-01T07:00:00.000Z', 'not a date'),
      notBefore: fc.constant('2030-01-01T07:00:00.000Z'),
      subjects: fc.array(fc.constantFrom('guest:1', 'guest:2'), { maxLength: 2 }),
    },
    { requiredKeys: [] },
  );
  const aMissionIn = fc.constantFrom(...MISSION_STATUSES).map((status): Mission => ({ ...aMission, status }));

  test('given any event of a type outside them, whatever its data and the mission before and after it, when its effects are worked out, then none puts the mission among the dead letters or takes it out', () => {
    const others = MISSION_EVENT_TYPES.filter((type) => !DEAD_LETTER_EVENT_TYPES.has(type));
    fc.assert(
      fc.property(fc.constantFrom(...others), anyData, fc.option(aMissionIn, { nil: null }), aMissionIn, (type, data, previous, next) => {
        const event = { ...anEvent, type, data } as unknown as MissionEvent;
        const effects = effectsOf([event], { previous, next, now: Date.parse(event.at), queueScore });
        expect(effects.filter((effect) => DEAD_LETTER_KINDS.has(effect.kind))).toEqual([]);
        expect(deadLetterPlaceAfter(event, next)).toBeUndefined();
      }),
    );
  });

  test('given a dead-lettering, a requeue and a cancellation, when replayed, then each says where it leaves the mission among the dead letters', () => {
    const history = running();
    history.apply(decideFailure(history.mission, 1, 'boom', 1));
    const deadLettered = history.events.at(-1);
    if (deadLettered?.type !== 'MissionDeadLettered') throw new Error(`the last event is ${deadLettered?.type}, not MissionDeadLettered`);
    expect(deadLetterPlaceAfter(deadLettered, history.mission)).toEqual({ at: Date.parse(deadLettered.at), reason: deadLettered.data.reason });
    history.apply(decideRequeue(history.mission, 'fixed'));
    const requeued = history.events.at(-1);
    expect(requeued?.type).toBe('MissionRequeued');
    expect(deadLetterPlaceAfter(requeued as MissionEvent, history.mission)).toBeNull();
    const cancelled = new MissionHistory({ stepMs: 0 });
    cancelled.append(decideCreate(aCreateInput()));
    cancelled.apply(decideCancel(cancelled.mission, 'not needed'));
    expect(deadLetterPlaceAfter(cancelled.events.at(-1) as MissionEvent, cancelled.mission)).toBeNull();
  });
});
