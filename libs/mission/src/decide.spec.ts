import * as fc from 'fast-check';
import { aCreateInput, aResult, anEvaluation, MissionHistory } from '@app/testing';
import {
  attemptsSinceRequeue,
  Decision,
  decideApprove,
  decideAssign,
  decideCancel,
  decideComplete,
  decideCreate,
  decideDue,
  decideEvaluate,
  decideFail,
  decideJudged,
  decideLateReply,
  decideReject,
  decideOverdue,
  decideRequeue,
  decideRetry,
  decideReviewOverdue,
  decideStart,
  decideVerdict,
  MAX_REQUESTED_WAIT_MS,
  RetryOptions,
  retryDelayMs,
  withLateness,
} from './decide';
import { NewMissionEvent } from './mission-events';
import { Mission } from './mission-state';
import { MissionStatus } from './mission-status';
import { priorityScore } from './priority-score';

const MAX_ATTEMPTS = 3;

function expectSkip(decision: Decision): void {
  expect(decision.kind).toBe('skip');
  if (decision.kind === 'skip') expect(decision.reason).toEqual(expect.any(String));
}

function eventsOf(decision: Decision): NewMissionEvent[] {
  if (decision.kind !== 'append') throw new Error(`expected events, got skip: ${decision.reason}`);
  return decision.events;
}

/** A freshly created (queued) mission. */
function created(input = aCreateInput()): MissionHistory {
  const history = new MissionHistory();
  history.append(decideCreate(input));
  return history;
}

/** Assigns the next attempt to `agentId` and starts it. */
function runNextAttempt(history: MissionHistory, agentId: string): number {
  history.apply(decideAssign(history.mission, agentId));
  const attempt = history.mission.attempts;
  history.apply(decideStart(history.mission, attempt));
  return attempt;
}

/** Runs the next attempt up to a failed evaluation. */
function failEvaluation(history: MissionHistory, agentId: string): number {
  const attempt = runNextAttempt(history, agentId);
  history.apply(decideComplete(history.mission, attempt, aResult()));
  history.apply(decideEvaluate(history.mission, anEvaluation(attempt, false)));
  return attempt;
}

/** Builds a mission in the given (visible) status. Dead-lettering uses maxAttempts 1. */
function missionIn(status: Exclude<MissionStatus, 'created'>): MissionHistory {
  const history = created();
  if (status === 'queued') return history;
  if (status === 'cancelled') {
    history.apply(decideCancel(history.mission, 'not needed'));
    return history;
  }
  if (status === 'dead_lettered') {
    const attempt = runNextAttempt(history, 'agent-1');
    history.apply(decideFail(history.mission, attempt, 'boom'));
    history.apply(decideRetry(history.mission, attempt, 1));
    return history;
  }
  history.apply(decideAssign(history.mission, 'agent-1'));
  if (status === 'assigned') return history;
  history.apply(decideStart(history.mission, 1));
  if (status === 'running') return history;
  history.apply(decideComplete(history.mission, 1, aResult()));
  if (status === 'evaluating') return history;
  history.apply(decideVerdict(history.mission, anEvaluation(1, true), MAX_ATTEMPTS, { reviewRule: status === 'awaiting_review' ? 'guest-replies' : null }));
  return history;
}

const VISIBLE_STATUSES = ['queued', 'assigned', 'running', 'evaluating', 'awaiting_review', 'succeeded', 'dead_lettered', 'cancelled'] as const;
const MAX_REVIEW_ROUNDS = 2;

/** Runs the next attempt of a queued mission to a pass the review policy holds for a reviewer. */
function passForReview(history: MissionHistory, agentId = 'agent-1'): number {
  const attempt = runNextAttempt(history, agentId);
  history.apply(decideComplete(history.mission, attempt, aResult()));
  history.apply(decideVerdict(history.mission, anEvaluation(attempt, true), MAX_ATTEMPTS, { reviewRule: 'guest-replies' }));
  return attempt;
}

describe('decide', () => {
  test.each(VISIBLE_STATUSES)('given the missionIn helper, when asked for %s, then it builds a mission in that status', (status) => {
    expect(missionIn(status).mission.status).toBe(status);
  });

  describe('decideCreate', () => {
    test('given a submission without skills, when decided, then MissionCreated and MissionQueued(created) come with the default skills and the score', () => {
      const input = aCreateInput({ type: 'guest_support', priority: 'normal', payload: { room: '204' } });
      const events = decideCreate(input);
      expect(events).toEqual<NewMissionEvent[]>([
        {
          type: 'MissionCreated',
          data: {
            type: 'guest_support',
            title: input.title,
            description: input.description,
            priority: 'normal',
            requiredSkills: ['guest_communication'],
            payload: { room: '204' },
          },
        },
        { type: 'MissionQueued', data: { priorityScore: 34, reason: 'created' } },
      ]);
    });

    test.each([
      ['guest_support', ['guest_communication']],
      ['pricing', ['revenue_management']],
      ['maintenance', ['facility_maintenance']],
    ] as const)('given a %s submission with an empty skill list, when decided, then the default skills %j are used', (type, skills) => {
      const [createdEvent] = decideCreate(aCreateInput({ type, requiredSkills: [] }));
      expect(createdEvent).toMatchObject({ type: 'MissionCreated', data: { requiredSkills: skills } });
    });

    test('given skills with duplicates, when decided, then they are de-duplicated in order and the input is left alone', () => {
      const requiredSkills = ['plumbing', 'guest_communication', 'plumbing'];
      const [createdEvent] = decideCreate(aCreateInput({ requiredSkills }));
      expect(createdEvent).toMatchObject({ data: { requiredSkills: ['plumbing', 'guest_communication'] } });
      expect(requiredSkills).toEqual(['plumbing', 'guest_communication', 'plumbing']);
    });

    test('given a deadline and a source with extra properties, when decided, then the deadline is kept and only system/model/recordId of the source', () => {
      const source = Object.assign({ system: 'odoo', model: 'helpdesk.ticket', recordId: 4711 }, { secret: 'do not copy' });
      const [createdEvent] = decideCreate(aCreateInput({ deadline: '2025-06-01T18:00:00Z', source }));
      expect(createdEvent).toMatchObject({ data: { deadline: '2025-06-01T18:00:00Z' } });
      expect(createdEvent.type === 'MissionCreated' && createdEvent.data.source).toStrictEqual({
        system: 'odoo',
        model: 'helpdesk.ticket',
        recordId: 4711,
      });
    });

    test('given no deadline and no source, when decided, then MissionCreated carries neither key', () => {
      const [createdEvent] = decideCreate(aCreateInput());
      expect(createdEvent.data).not.toHaveProperty('deadline');
      expect(createdEvent.data).not.toHaveProperty('source');
    });

    test('given a submission, when decided, then the queued score is priorityScore(input), its deadline left to the queue', () => {
      const input = aCreateInput({
        type: 'maintenance',
        priority: 'high',
        deadline: '2025-06-01T18:00:00Z',
        payload: { safetyIssue: true, guest: { vip: true } },
      });
      const [, queuedEvent] = decideCreate(input);
      // 55 + 6 + 8 + 15 = 84
      expect(queuedEvent).toEqual({ type: 'MissionQueued', data: { priorityScore: 84, reason: 'created' } });
      expect(priorityScore(input)).toBe(84);
    });

    test('given the decided events, when folded, then the mission is queued at version 2 with 0 attempts and its score', () => {
      const mission = created(aCreateInput({ priority: 'high', type: 'pricing' })).mission;
      expect(mission).toMatchObject<Partial<Mission>>({ status: 'queued', version: 2, attempts: 0, priorityScore: 55 });
    });
  });

  describe('decideAssign', () => {
    test('given a queued mission, when an agent is assigned, then MissionAssigned carries the agent and attempt 1', () => {
      expect(eventsOf(decideAssign(created().mission, 'agent-7'))).toEqual([{ type: 'MissionAssigned', data: { agentId: 'agent-7', attempt: 1 } }]);
    });

    test('given a slot claimed for attempt 1, when the mission has had an attempt meanwhile, then the assignment is skipped', () => {
      const history = created();
      history.apply(decideAssign(history.mission, 'agent-1'));
      history.apply(decideFail(history.mission, 1, 'agent unreachable'));
      history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
      expectSkip(decideAssign(history.mission, 'agent-2', 1));
      expect(eventsOf(decideAssign(history.mission, 'agent-2', 2))).toEqual([{ type: 'MissionAssigned', data: { agentId: 'agent-2', attempt: 2 } }]);
    });

    test.each(VISIBLE_STATUSES.filter((s) => s !== 'queued'))('given a %s mission, when an agent is assigned, then it is skipped', (status) => {
      expectSkip(decideAssign(missionIn(status).mission, 'agent-7'));
    });
  });

  describe('decideStart', () => {
    test('given an assigned attempt, when started, then MissionStarted names the assigned agent and the attempt', () => {
      const mission = missionIn('assigned').mission;
      expect(eventsOf(decideStart(mission, 1))).toEqual([{ type: 'MissionStarted', data: { agentId: 'agent-1', attempt: 1 } }]);
    });

    test('given an executor run id, when started, then MissionStarted records it so the run can recognise its own start', () => {
      const mission = missionIn('assigned').mission;
      expect(eventsOf(decideStart(mission, 1, 'run-7'))).toEqual([{ type: 'MissionStarted', data: { agentId: 'agent-1', attempt: 1, runId: 'run-7' } }]);
    });

    test('given an attempt that already started, when the start is redelivered, then it is skipped', () => {
      expectSkip(decideStart(missionIn('running').mission, 1));
    });

    test.each([0, 2, 99])('given attempt 1 is assigned, when attempt %d is started, then it is skipped as stale', (attempt) => {
      expectSkip(decideStart(missionIn('assigned').mission, attempt));
    });

    test('given attempt 1 failed and was requeued, when its start is redelivered, then it is skipped', () => {
      const history = created();
      history.apply(decideAssign(history.mission, 'agent-1'));
      history.apply(decideFail(history.mission, 1, 'agent unreachable'));
      history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
      expect(history.mission.status).toBe('queued');
      expectSkip(decideStart(history.mission, 1));
    });
  });

  describe('decideComplete', () => {
    test('given a running attempt, when it completes, then MissionCompleted carries the agent, attempt and result', () => {
      const result = aResult({ latencyMs: 42 });
      expect(eventsOf(decideComplete(missionIn('running').mission, 1, result))).toEqual([
        { type: 'MissionCompleted', data: { agentId: 'agent-1', attempt: 1, result } },
      ]);
    });

    test('given an executor run id, when it completes, then MissionCompleted records it so the run can recognise its own result', () => {
      const result = aResult();
      expect(eventsOf(decideComplete(missionIn('running').mission, 1, result, 'run-7'))).toEqual([
        { type: 'MissionCompleted', data: { agentId: 'agent-1', attempt: 1, result, runId: 'run-7' } },
      ]);
    });

    test('given attempt 2 is running, when a late result of attempt 1 arrives, then it is skipped', () => {
      const history = created();
      failEvaluation(history, 'agent-1');
      history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
      runNextAttempt(history, 'agent-2');
      expectSkip(decideComplete(history.mission, 1, aResult()));
    });

    test('given an attempt already completed, when the result is redelivered, then it is skipped', () => {
      expectSkip(decideComplete(missionIn('evaluating').mission, 1, aResult()));
    });

    test('given an assigned attempt that has not started, when a result arrives, then it is skipped', () => {
      expectSkip(decideComplete(missionIn('assigned').mission, 1, aResult()));
    });

    test.each(['succeeded', 'cancelled', 'dead_lettered'] as const)('given a %s mission, when a result arrives, then it is skipped', (status) => {
      expectSkip(decideComplete(missionIn(status).mission, 1, aResult()));
    });
  });

  describe('decideLateReply', () => {
    const billed = { usage: { promptTokens: 900, completionTokens: 150 }, costUsd: 0.0012 };
    const lateReply = { attempt: 1, agentId: 'agent-1', billed, runId: 'run-7' };

    test.each(['cancelled', 'succeeded', 'dead_lettered'] as const)(
      'given a %s mission, when a billed reply of its attempt arrives, then LateReplyBilled records its tokens, cost, agent and run',
      (status) => {
        expect(eventsOf(decideLateReply(missionIn(status).mission, lateReply))).toEqual([
          { type: 'LateReplyBilled', data: { attempt: 1, agentId: 'agent-1', usage: billed.usage, costUsd: 0.0012, runId: 'run-7' } },
        ]);
      },
    );

    test('given attempt 2 is running, when a billed reply of attempt 1 arrives, then it is recorded and attempt 2 runs on', () => {
      const history = created();
      failEvaluation(history, 'agent-1');
      history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
      runNextAttempt(history, 'agent-2');
      history.apply(decideLateReply(history.mission, lateReply));
      expect(history.mission).toMatchObject({ status: 'running', attempts: 2, assignedAgentId: 'agent-2', lateBilledRuns: ['run-7'] });
    });

    test('given a model without a price, when its late reply arrives, then the event has no cost', () => {
      const { usage } = billed;
      expect(eventsOf(decideLateReply(missionIn('cancelled').mission, { ...lateReply, billed: { usage } }))).toEqual([
        { type: 'LateReplyBilled', data: { attempt: 1, agentId: 'agent-1', usage, runId: 'run-7' } },
      ]);
    });

    test('given the run recorded its late reply, when the append is retried after its reply was lost, then it is skipped', () => {
      const history = missionIn('cancelled');
      history.apply(decideLateReply(history.mission, lateReply));
      expectSkip(decideLateReply(history.mission, lateReply));
      // Another run's late reply is another call, recorded too.
      expect(eventsOf(decideLateReply(history.mission, { ...lateReply, runId: 'run-8' }))).toHaveLength(1);
    });

    test('given a reply with no billing information (no tokens, no cost), when it arrives late, then nothing is recorded', () => {
      expectSkip(decideLateReply(missionIn('cancelled').mission, { ...lateReply, billed: { usage: { promptTokens: 0, completionTokens: 0 } } }));
    });

    test('given the attempt is still running, when its reply is offered as late, then it is skipped: the reply is its outcome', () => {
      expectSkip(decideLateReply(missionIn('running').mission, lateReply));
    });

    describe("the LLM judge's reply, whose verdict could not be recorded", () => {
      const judgeReply = { ...lateReply, runId: 'judging-3', judge: true as const };

      test.each(['cancelled', 'succeeded', 'dead_lettered'] as const)(
        'given a %s mission, when the judge of its attempt was billed, then LateReplyBilled records it as the judge’s, once',
        (status) => {
          const history = missionIn(status);
          history.apply(decideLateReply(history.mission, judgeReply));
          expect(history.events.at(-1)).toMatchObject({
            type: 'LateReplyBilled',
            data: { attempt: 1, agentId: 'agent-1', usage: billed.usage, costUsd: 0.0012, runId: 'judging-3', judge: true },
          });
          expect(history.mission.status).toBe(status);
          // A redelivery's or a retry's append meets it.
          expectSkip(decideLateReply(history.mission, judgeReply));
        },
      );

      test('given another judging recorded the verdict of the attempt, when this judge was billed too, then its call is recorded', () => {
        const history = missionIn('evaluating');
        history.apply(decideVerdict(history.mission, anEvaluation(1, false), MAX_ATTEMPTS));
        expect(eventsOf(decideLateReply(history.mission, judgeReply))).toEqual([
          { type: 'LateReplyBilled', data: { attempt: 1, agentId: 'agent-1', usage: billed.usage, costUsd: 0.0012, runId: 'judging-3', judge: true } },
        ]);
      });

      test('given the attempt awaits its verdict, when the judge’s reply is offered as late, then it is skipped: the verdict records it', () => {
        expectSkip(decideLateReply(missionIn('evaluating').mission, judgeReply));
      });
    });
  });

  describe('decideJudged', () => {
    const billed = { usage: { promptTokens: 1200, completionTokens: 300 }, costUsd: 0.0021 };
    const judgedBy = (runId: string, passed = true) => ({ evaluation: anEvaluation(1, passed, { ...billed, runId }), agentId: 'agent-1' });
    const lateCall = { type: 'LateReplyBilled', data: { attempt: 1, agentId: 'agent-1', ...billed, runId: 'judging-3', judge: true } };

    test('given the attempt awaits its verdict, when it is judged, then the verdict is the decision, as decideVerdict gives it', () => {
      const history = missionIn('evaluating');
      const judged = judgedBy('judging-3', false);
      expect(decideJudged(history.mission, judged, MAX_ATTEMPTS)).toEqual(decideVerdict(history.mission, judged.evaluation, MAX_ATTEMPTS));
    });

    test.each(['cancelled', 'succeeded', 'dead_lettered'] as const)(
      'given a %s mission, when the verdict holds a billed judge call, then the same decision records the call as LateReplyBilled instead',
      (status) => {
        expect(eventsOf(decideJudged(missionIn(status).mission, judgedBy('judging-3'), MAX_ATTEMPTS))).toEqual([lateCall]);
      },
    );

    test('given the verdict is moot and holds no billed call (the rules judged), when decided, then nothing is recorded', () => {
      expectSkip(decideJudged(missionIn('cancelled').mission, { evaluation: anEvaluation(1, true), agentId: 'agent-1' }, MAX_ATTEMPTS));
    });

    test('given its verdict was recorded by a try whose reply was lost, when the retry decides, then it is skipped, not billed again', () => {
      const history = missionIn('evaluating');
      history.apply(decideJudged(history.mission, judgedBy('judging-3'), MAX_ATTEMPTS));
      expect(history.mission.status).toBe('succeeded');
      expectSkip(decideJudged(history.mission, judgedBy('judging-3'), MAX_ATTEMPTS));
      // Another judging of the attempt (a second delivery's) is a call of its own.
      expect(eventsOf(decideJudged(history.mission, judgedBy('judging-4'), MAX_ATTEMPTS))).toEqual([
        { ...lateCall, data: { ...lateCall.data, runId: 'judging-4' } },
      ]);
    });

    test('given the mission moved past its verdict, when the log shows the verdict is this judging’s, then it is skipped', () => {
      const history = missionIn('evaluating');
      history.apply(decideJudged(history.mission, judgedBy('judging-3', false), MAX_ATTEMPTS));
      runNextAttempt(history, 'agent-2');
      expect(history.mission.evaluation).toBeNull();
      expectSkip(decideJudged(history.mission, { ...judgedBy('judging-3', false), verdictRecorded: true }, MAX_ATTEMPTS));
    });

    test('given its billed call was recorded as LateReplyBilled, when the append is retried, then it is skipped', () => {
      const history = missionIn('cancelled');
      history.apply(decideJudged(history.mission, judgedBy('judging-3'), MAX_ATTEMPTS));
      expect(history.mission.lateBilledRuns).toEqual(['judging-3']);
      expectSkip(decideJudged(history.mission, judgedBy('judging-3'), MAX_ATTEMPTS));
    });
  });

  describe('decideFail', () => {
    test.each(['running', 'assigned'] as const)('given a %s attempt, when it fails, then MissionFailed carries the agent, attempt and error', (status) => {
      expect(eventsOf(decideFail(missionIn(status).mission, 1, 'timeout'))).toEqual([
        { type: 'MissionFailed', data: { agentId: 'agent-1', attempt: 1, error: 'timeout' } },
      ]);
    });

    test('given an executor run id, when it fails, then MissionFailed records it so the run can recognise its own failure', () => {
      expect(eventsOf(decideFail(missionIn('running').mission, 1, 'timeout', undefined, 'run-7'))).toEqual([
        { type: 'MissionFailed', data: { agentId: 'agent-1', attempt: 1, error: 'timeout', runId: 'run-7' } },
      ]);
    });

    test('given attempt 1 is running, when a failure of attempt 2 arrives, then it is skipped', () => {
      expectSkip(decideFail(missionIn('running').mission, 2, 'timeout'));
    });

    test.each(['queued', 'evaluating', 'succeeded', 'cancelled', 'dead_lettered'] as const)(
      'given a %s mission, when a failure of attempt 1 arrives, then it is skipped',
      (status) => {
        expectSkip(decideFail(missionIn(status).mission, 1, 'timeout'));
      },
    );

    // Decision doc: a redelivered message whose command was already applied is a skip.
    test('given attempt 1 already recorded its failure, when the same failure is redelivered, then it is skipped', () => {
      const history = missionIn('running');
      history.apply(decideFail(history.mission, 1, 'timeout'));
      expectSkip(decideFail(history.mission, 1, 'timeout'));
    });
  });

  describe('decideEvaluate', () => {
    test('given an attempt under evaluation, when evaluated, then MissionEvaluated carries the evaluation', () => {
      const evaluation = anEvaluation(1, true);
      expect(eventsOf(decideEvaluate(missionIn('evaluating').mission, evaluation))).toEqual([{ type: 'MissionEvaluated', data: evaluation }]);
    });

    test.each([true, false])('given attempt 1 was evaluated (passed %s), when the evaluation is redelivered, then it is skipped', (passed) => {
      const history = missionIn('evaluating');
      history.apply(decideEvaluate(history.mission, anEvaluation(1, passed)));
      expectSkip(decideEvaluate(history.mission, anEvaluation(1, passed)));
    });

    test.each([0, 2])('given attempt 1 is under evaluation, when an evaluation of attempt %d arrives, then it is skipped', (attempt) => {
      expectSkip(decideEvaluate(missionIn('evaluating').mission, anEvaluation(attempt, true)));
    });

    test.each(['queued', 'assigned', 'running', 'cancelled', 'dead_lettered'] as const)(
      'given a %s mission, when an evaluation arrives, then it is skipped',
      (status) => {
        expectSkip(decideEvaluate(missionIn(status).mission, anEvaluation(1, true)));
      },
    );
  });

  describe('decideRetry', () => {
    describe('given attempt 1 failed its evaluation and attempts remain', () => {
      test('when retried, then MissionQueued(retry) keeps the score and passes the evaluator reason as feedback', () => {
        const history = created(aCreateInput({ priority: 'high' }));
        failEvaluation(history, 'agent-1');
        const reason = anEvaluation(1, false).reason;
        expect(eventsOf(decideRetry(history.mission, 1, MAX_ATTEMPTS))).toEqual([
          { type: 'MissionQueued', data: { priorityScore: history.mission.priorityScore, reason: 'retry', feedback: reason } },
        ]);
      });

      test('when the retry is folded, then the mission is queued with feedback and agent-1 recorded as a previous agent', () => {
        const history = created();
        failEvaluation(history, 'agent-1');
        const mission = history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
        expect(mission).toMatchObject<Partial<Mission>>({
          status: 'queued',
          attempts: 1,
          assignedAgentId: null,
          previousAgentIds: ['agent-1'],
          feedback: anEvaluation(1, false).reason,
        });
      });

      test('when the next agent is assigned, then it gets attempt 2', () => {
        const history = created();
        failEvaluation(history, 'agent-1');
        history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
        expect(eventsOf(decideAssign(history.mission, 'agent-2'))).toEqual([{ type: 'MissionAssigned', data: { agentId: 'agent-2', attempt: 2 } }]);
      });

      test('when the retry is redelivered after it was applied, then it is skipped', () => {
        const history = created();
        failEvaluation(history, 'agent-1');
        history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
        expectSkip(decideRetry(history.mission, 1, MAX_ATTEMPTS));
      });

      test('when attempt 2 then passes, then the mission succeeds with attempts 2 and one previous agent', () => {
        const history = created();
        failEvaluation(history, 'agent-1');
        history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
        const attempt = runNextAttempt(history, 'agent-2');
        history.apply(decideComplete(history.mission, attempt, aResult()));
        const mission = history.apply(decideEvaluate(history.mission, anEvaluation(attempt, true)));
        expect(mission).toMatchObject<Partial<Mission>>({
          status: 'succeeded',
          attempts: 2,
          assignedAgentId: 'agent-2',
          previousAgentIds: ['agent-1'],
          feedback: null,
          version: 2 + 4 + 1 + 4,
        });
      });
    });

    test.each(['running', 'assigned'] as const)(
      'given a %s attempt that failed to execute, when retried, then MissionQueued(retry) has no feedback',
      (status) => {
        const history = missionIn(status);
        history.apply(decideFail(history.mission, 1, 'timeout'));
        expect(eventsOf(decideRetry(history.mission, 1, MAX_ATTEMPTS))).toEqual([
          { type: 'MissionQueued', data: { priorityScore: history.mission.priorityScore, reason: 'retry' } },
        ]);
        const mission = history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
        expect(mission).toMatchObject<Partial<Mission>>({ status: 'queued', previousAgentIds: ['agent-1'], feedback: null, lastError: 'timeout' });
      },
    );

    test('given maxAttempts 3, when every attempt fails its evaluation, then agents 1..3 are recorded and the third failure dead-letters', () => {
      const history = created();
      for (const agent of ['agent-1', 'agent-2']) {
        const attempt = failEvaluation(history, agent);
        history.apply(decideRetry(history.mission, attempt, MAX_ATTEMPTS));
        expect(history.mission.status).toBe('queued');
      }
      const attempt = failEvaluation(history, 'agent-3');
      expect(attempt).toBe(3);
      const lastError = anEvaluation(3, false).reason;
      expect(eventsOf(decideRetry(history.mission, 3, MAX_ATTEMPTS))).toEqual([
        { type: 'MissionDeadLettered', data: { reason: 'failed 3 of 3 attempts', attempts: 3, lastError } },
      ]);
      const mission = history.apply(decideRetry(history.mission, 3, MAX_ATTEMPTS));
      expect(mission).toMatchObject<Partial<Mission>>({
        status: 'dead_lettered',
        attempts: 3,
        lastError,
        assignedAgentId: null,
        previousAgentIds: ['agent-1', 'agent-2', 'agent-3'],
      });
    });

    test('given maxAttempts 1, when the only attempt fails to execute, then it is dead-lettered with the execution error', () => {
      const history = missionIn('running');
      history.apply(decideFail(history.mission, 1, 'LLM timeout'));
      expect(eventsOf(decideRetry(history.mission, 1, 1))).toEqual([
        { type: 'MissionDeadLettered', data: { reason: 'failed 1 of 1 attempts', attempts: 1, lastError: 'LLM timeout' } },
      ]);
    });

    test('given maxAttempts was lowered below the attempts used, when a failed attempt is retried, then it is dead-lettered', () => {
      const history = created();
      failEvaluation(history, 'agent-1');
      history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
      failEvaluation(history, 'agent-2');
      expect(eventsOf(decideRetry(history.mission, 2, 1))[0].type).toBe('MissionDeadLettered');
    });

    test('given a passed evaluation, when retry is asked, then it is skipped', () => {
      expectSkip(decideRetry(missionIn('succeeded').mission, 1, MAX_ATTEMPTS));
    });

    test('given an attempt under evaluation with no verdict yet, when retry is asked, then it is skipped', () => {
      expectSkip(decideRetry(missionIn('evaluating').mission, 1, MAX_ATTEMPTS));
    });

    test.each(['running', 'assigned'] as const)('given a %s first attempt that has not failed, when retry is asked, then it is skipped', (status) => {
      expectSkip(decideRetry(missionIn(status).mission, 1, MAX_ATTEMPTS));
    });

    test('given attempt 1 failed, when retry is asked for attempt 2, then it is skipped as stale', () => {
      const history = missionIn('running');
      history.apply(decideFail(history.mission, 1, 'timeout'));
      expectSkip(decideRetry(history.mission, 2, MAX_ATTEMPTS));
    });

    test.each(['queued', 'cancelled', 'dead_lettered'] as const)('given a %s mission, when retry is asked, then it is skipped', (status) => {
      expectSkip(decideRetry(missionIn(status).mission, missionIn(status).mission.attempts, MAX_ATTEMPTS));
    });

    // lastError survives into the next attempt, so decideRetry takes a healthy attempt 2 for a failed one.
    test('given attempt 1 failed and attempt 2 is running without failing, when retry is asked for attempt 2, then it is skipped', () => {
      const history = created();
      failEvaluation(history, 'agent-1');
      history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
      runNextAttempt(history, 'agent-2');
      expect(history.mission).toMatchObject({ status: 'running', attempts: 2 });
      expectSkip(decideRetry(history.mission, 2, MAX_ATTEMPTS));
    });
  });

  describe('decideCancel', () => {
    test.each(['queued', 'assigned', 'running', 'evaluating'] as const)(
      'given a %s mission, when cancelled, then MissionCancelled is appended and the mission ends cancelled',
      (status) => {
        const history = missionIn(status);
        expect(eventsOf(decideCancel(history.mission, 'guest checked out'))).toEqual([{ type: 'MissionCancelled', data: { reason: 'guest checked out' } }]);
        const mission = history.apply(decideCancel(history.mission, 'guest checked out'));
        expect(mission.status).toBe('cancelled');
        expect(mission.assignedAgentId).toBeNull();
      },
    );

    test.each(['succeeded', 'cancelled'] as const)('given a terminal %s mission, when cancelled, then it is skipped', (status) => {
      expectSkip(decideCancel(missionIn(status).mission, 'too late'));
    });

    // decideCancel only skips terminal statuses, but lifecycle.ts has no dead_lettered -> cancelled.
    test('given a dead-lettered mission, when cancelled, then the decision is a skip or events that evolve accepts', () => {
      const history = missionIn('dead_lettered');
      const decision = decideCancel(history.mission, 'give up');
      if (decision.kind === 'skip') return;
      expect(() => history.append(decision.events)).not.toThrow();
      expect(history.mission.status).toBe('cancelled');
    });
  });

  describe('decideRequeue', () => {
    test('given a dead-lettered mission, when requeued, then MissionRequeued keeps the score', () => {
      const history = missionIn('dead_lettered');
      expect(eventsOf(decideRequeue(history.mission, 'operator'))).toEqual([
        { type: 'MissionRequeued', data: { reason: 'operator', priorityScore: history.mission.priorityScore } },
      ]);
    });

    test('given a dead-lettered mission, when requeued and folded, then attempts keep counting and MAX_ATTEMPTS more may run', () => {
      const history = created();
      const failAttempt = (agent: string) => {
        const attempt = runNextAttempt(history, agent);
        history.apply(decideFail(history.mission, attempt, `boom ${attempt}`));
        history.apply(decideRetry(history.mission, attempt, MAX_ATTEMPTS));
      };
      for (const agent of ['agent-1', 'agent-2', 'agent-3']) failAttempt(agent);
      expect(history.mission).toMatchObject({ status: 'dead_lettered', attempts: 3 });
      const mission = history.apply(decideRequeue(history.mission, 'operator'));
      expect(mission).toMatchObject<Partial<Mission>>({ status: 'queued', attempts: 3, attemptsAtRequeue: 3, feedback: null, assignedAgentId: null });
      expect(eventsOf(decideAssign(mission, 'agent-4'))).toEqual([{ type: 'MissionAssigned', data: { agentId: 'agent-4', attempt: 4 } }]);

      failAttempt('agent-4');
      failAttempt('agent-5');
      expect(history.mission).toMatchObject({ status: 'queued', attempts: 5 });
      failAttempt('agent-6');
      expect(history.mission).toMatchObject({ status: 'dead_lettered', attempts: 6, lastError: 'boom 6' });
      expect(history.events.at(-1)?.data).toMatchObject({ reason: `failed 3 of ${MAX_ATTEMPTS} attempts`, attempts: 6 });
    });

    test.each(VISIBLE_STATUSES.filter((s) => s !== 'dead_lettered'))('given a %s mission, when requeued, then it is skipped', (status) => {
      expectSkip(decideRequeue(missionIn(status).mission, 'operator'));
    });

    describe('given maxAttempts 1, attempt 1 failed its evaluation, the mission was dead-lettered, requeued and attempt 2 ran', () => {
      function rerun(): MissionHistory {
        const history = created();
        failEvaluation(history, 'agent-1');
        history.apply(decideRetry(history.mission, 1, 1));
        expect(history.mission.status).toBe('dead_lettered');
        history.apply(decideRequeue(history.mission, 'operator'));
        const attempt = runNextAttempt(history, 'agent-1');
        history.apply(decideComplete(history.mission, attempt, aResult()));
        expect(history.mission).toMatchObject({ status: 'evaluating', attempts: 2 });
        return history;
      }

      test('when attempt 2 is evaluated, then the evaluation is appended', () => {
        expect(decideEvaluate(rerun().mission, anEvaluation(2, true)).kind).toBe('append');
      });

      // Before requeues kept counting, the old round's attempt 1 and the new one had the same number.
      test('when a late message of the first round (attempt 1) arrives, then it is skipped', () => {
        const history = rerun();
        expectSkip(decideEvaluate(history.mission, anEvaluation(1, false)));
        expectSkip(decideComplete(history.mission, 1, aResult()));
        expectSkip(decideFail(history.mission, 1, 'late failure'));
        expectSkip(decideRetry(history.mission, 1, 1));
      });

      test('when retry is asked before attempt 2 is evaluated, then it is skipped', () => {
        expectSkip(decideRetry(rerun().mission, 2, 1));
      });
    });
  });

  describe('reviews', () => {
    test('given a completed attempt, when it passes and the policy asks for a review, then the pass is held and the review requested with the rule', () => {
      const history = missionIn('evaluating');
      const evaluation = anEvaluation(1, true);
      expect(eventsOf(decideVerdict(history.mission, evaluation, MAX_ATTEMPTS, { reviewRule: 'guest-replies' }))).toEqual<NewMissionEvent[]>([
        { type: 'MissionEvaluated', data: { ...evaluation, heldForReview: true } },
        { type: 'MissionReviewRequested', data: { rule: 'guest-replies', attempt: 1 } },
      ]);
    });

    test('given a completed attempt, when it passes and no rule asks for a review, then it succeeds as before', () => {
      const history = missionIn('evaluating');
      history.apply(decideVerdict(history.mission, anEvaluation(1, true), MAX_ATTEMPTS, { reviewRule: null }));
      expect(history.mission.status).toBe('succeeded');
      expect(history.mission).not.toHaveProperty('review');
    });

    test('given a completed attempt, when it fails, then a review rule changes nothing: the next attempt is queued', () => {
      const history = missionIn('evaluating');
      history.apply(decideVerdict(history.mission, anEvaluation(1, false), MAX_ATTEMPTS, { reviewRule: 'guest-replies' }));
      expect(history.mission.status).toBe('queued');
      expect(history.events.map((e) => e.type)).not.toContain('MissionReviewRequested');
    });

    test('given a held pass, when folded, then the mission awaits review with the rule and time, and holds no agent', () => {
      const history = missionIn('awaiting_review');
      expect(history.mission).toMatchObject({
        status: 'awaiting_review',
        evaluation: { passed: true, attempt: 1 },
        review: { attempt: 1, rule: 'guest-replies', requestedAt: history.events.at(-1)?.at },
      });
      expect(history.mission.evaluation).not.toHaveProperty('heldForReview');
    });

    test('given a mission awaiting review, when approved with a note, then it succeeds, the reviewer is on record and the output is kept', () => {
      const history = missionIn('awaiting_review');
      const output = history.mission.result?.output;
      expect(eventsOf(decideApprove(history.mission, { note: 'fine' }))).toEqual([{ type: 'MissionApproved', data: { attempt: 1, note: 'fine' } }]);
      history.apply(decideApprove(history.mission, { note: 'fine' }));
      expect(history.mission).toMatchObject({ status: 'succeeded', result: { output }, review: { decision: 'approved', reviewedBy: 'test', note: 'fine' } });
      expect(history.mission.review).not.toHaveProperty('originalOutput');
    });

    test("given a mission awaiting review, when approved with an edit, then the edit is the output and the agent's original is kept", () => {
      const history = missionIn('awaiting_review');
      const original = history.mission.result?.output;
      history.apply(decideApprove(history.mission, { output: { reply: 'Edited reply' } }));
      expect(history.mission).toMatchObject({ status: 'succeeded', result: { output: { reply: 'Edited reply' } }, review: { originalOutput: original } });
      // The original is also in the log, in MissionCompleted; the edit in MissionApproved.
      expect(history.events.at(-1)).toMatchObject({ type: 'MissionApproved', data: { output: { reply: 'Edited reply' } } });
    });

    test('given a mission awaiting review, when rejected with rounds left, then the next attempt is queued with the feedback', () => {
      const history = missionIn('awaiting_review');
      expect(eventsOf(decideReject(history.mission, 'Mention the parking fee.', MAX_REVIEW_ROUNDS))).toEqual<NewMissionEvent[]>([
        { type: 'MissionRejected', data: { attempt: 1, feedback: 'Mention the parking fee.', round: 1 } },
        { type: 'MissionQueued', data: { priorityScore: history.mission.priorityScore, reason: 'rejected', feedback: 'Mention the parking fee.' } },
      ]);
      history.apply(decideReject(history.mission, 'Mention the parking fee.', MAX_REVIEW_ROUNDS));
      expect(history.mission).toMatchObject({
        status: 'queued',
        feedback: 'Mention the parking fee.',
        reviewRounds: 1,
        assignedAgentId: null,
        previousAgentIds: ['agent-1'],
        review: { decision: 'rejected', feedback: 'Mention the parking fee.', reviewedBy: 'test' },
      });
    });

    test('given a reviewer who looked at attempt 1, when attempt 2 is under review by then, then their approval or rejection is not taken', () => {
      const history = missionIn('awaiting_review');
      history.apply(decideReject(history.mission, 'Be warmer.', MAX_REVIEW_ROUNDS));
      passForReview(history, 'agent-2');
      // Another reviewer rejected attempt 1; an approval of it (an edit of its output) used to land on attempt 2.
      const stale = 'the result under review is of attempt 2 now, not of attempt 1';
      expect(decideApprove(history.mission, { output: { reply: 'Edited reply' }, attempt: 1 })).toEqual({ kind: 'skip', reason: stale });
      expect(decideReject(history.mission, 'Shorter.', MAX_REVIEW_ROUNDS, 1)).toEqual({ kind: 'skip', reason: stale });
      expect(eventsOf(decideApprove(history.mission, { attempt: 2 })).map((e) => e.type)).toEqual(['MissionApproved']);
    });

    test('given a rejected mission, when the next attempt is assigned, then the old review is gone and the feedback stays for the prompt', () => {
      const history = missionIn('awaiting_review');
      history.apply(decideReject(history.mission, 'Be warmer.', MAX_REVIEW_ROUNDS));
      history.apply(decideAssign(history.mission, 'agent-2'));
      expect(history.mission).toMatchObject({ status: 'assigned', attempts: 2, feedback: 'Be warmer.', reviewRounds: 1 });
      expect(history.mission).not.toHaveProperty('review');
    });

    test('given the last review round, when rejected, then the mission is dead-lettered with that reason in the same step', () => {
      const history = missionIn('awaiting_review');
      history.apply(decideReject(history.mission, 'Wrong tone.', MAX_REVIEW_ROUNDS));
      passForReview(history, 'agent-2');
      const events = eventsOf(decideReject(history.mission, 'Still wrong.', MAX_REVIEW_ROUNDS));
      expect(events).toEqual<NewMissionEvent[]>([
        { type: 'MissionRejected', data: { attempt: 2, feedback: 'Still wrong.', round: 2 } },
        { type: 'MissionDeadLettered', data: { reason: 'rejected in 2 of 2 review rounds', attempts: 2, lastError: 'Still wrong.' } },
      ]);
      history.apply(decideReject(history.mission, 'Still wrong.', MAX_REVIEW_ROUNDS));
      expect(history.mission).toMatchObject({ status: 'dead_lettered', reviewRounds: 2, lastError: 'Still wrong.' });
    });

    test('given a mission dead-lettered after its review rounds, when requeued, then the rounds start again', () => {
      const history = missionIn('awaiting_review');
      history.apply(decideReject(history.mission, 'No.', 1));
      history.apply(decideRequeue(history.mission, 'reviewers agreed on the tone'));
      expect(history.mission.status).toBe('queued');
      expect(history.mission).not.toHaveProperty('reviewRounds');
    });

    test('given a rejection after attempts failed, when the next attempts run, then MAX_ATTEMPTS counts from the rejection', () => {
      const history = created();
      failEvaluation(history, 'agent-1');
      history.apply(decideRetry(history.mission, 1, MAX_ATTEMPTS));
      passForReview(history, 'agent-2');
      history.apply(decideReject(history.mission, 'Too long.', MAX_REVIEW_ROUNDS));
      expect(attemptsSinceRequeue(history.mission)).toBe(0);
      failEvaluation(history, 'agent-1');
      expect(eventsOf(decideRetry(history.mission, 3, MAX_ATTEMPTS)).map((e) => e.type)).toEqual(['MissionQueued']);
    });

    test.each(VISIBLE_STATUSES.filter((s) => s !== 'awaiting_review'))(
      'given a %s mission, when a reviewer approves or rejects, then it is skipped',
      (status) => {
        const mission = missionIn(status).mission;
        expectSkip(decideApprove(mission, {}));
        expectSkip(decideReject(mission, 'no', MAX_REVIEW_ROUNDS));
      },
    );

    test('given two reviewers, when the second decides on the state the first changed, then the second is skipped', () => {
      const history = missionIn('awaiting_review');
      const seenByBoth = history.mission;
      history.apply(decideApprove(seenByBoth, {}));
      expectSkip(decideReject(history.mission, 'too late', MAX_REVIEW_ROUNDS));
      expectSkip(decideApprove(history.mission, {}));
    });

    test('given a mission awaiting review, when cancelled, then it is cancelled', () => {
      const history = missionIn('awaiting_review');
      history.apply(decideCancel(history.mission, 'guest left'));
      expect(history.mission.status).toBe('cancelled');
    });

    describe('overdue', () => {
      const TIMEOUT = 60_000;
      const requestedAt = (history: MissionHistory) => Date.parse(history.mission.review?.requestedAt ?? '');

      test('given a review waiting less than the timeout, when checked, then it is not overdue', () => {
        const history = missionIn('awaiting_review');
        expectSkip(decideReviewOverdue(history.mission, new Date(requestedAt(history) + TIMEOUT - 1), TIMEOUT));
      });

      test('given a review waiting the timeout, when checked twice, then MissionReviewOverdue is recorded once', () => {
        const history = missionIn('awaiting_review');
        const now = new Date(requestedAt(history) + TIMEOUT);
        expect(eventsOf(decideReviewOverdue(history.mission, now, TIMEOUT))).toEqual([
          { type: 'MissionReviewOverdue', data: { attempt: 1, requestedAt: history.mission.review?.requestedAt, timeoutMs: TIMEOUT } },
        ]);
        history.apply(decideReviewOverdue(history.mission, now, TIMEOUT));
        expect(history.mission).toMatchObject({ status: 'awaiting_review', review: { overdueAt: history.events.at(-1)?.at } });
        expectSkip(decideReviewOverdue(history.mission, new Date(now.getTime() + TIMEOUT), TIMEOUT));
      });

      test('given an overdue review, when a reviewer approves, then it succeeds', () => {
        const history = missionIn('awaiting_review');
        history.apply(decideReviewOverdue(history.mission, new Date(requestedAt(history) + TIMEOUT), TIMEOUT));
        history.apply(decideApprove(history.mission, {}));
        expect(history.mission).toMatchObject({ status: 'succeeded', review: { decision: 'approved' } });
      });

      test.each(VISIBLE_STATUSES.filter((s) => s !== 'awaiting_review'))(
        'given a %s mission, when checked for an overdue review, then it is skipped',
        (status) => {
          expectSkip(decideReviewOverdue(missionIn(status).mission, new Date('2100-01-01T00:00:00Z'), TIMEOUT));
        },
      );
    });
  });

  describe('decideOverdue', () => {
    const DEADLINE = '2026-05-01T18:00:00.000Z';
    const withDeadline = (status: Exclude<MissionStatus, 'created'>): MissionHistory => {
      const history = new MissionHistory();
      history.append(decideCreate(aCreateInput({ deadline: DEADLINE })));
      if (status === 'queued') return history;
      history.apply(status === 'cancelled' ? decideCancel(history.mission, 'not needed') : decideAssign(history.mission, 'agent-1'));
      if (status === 'assigned' || status === 'cancelled') return history;
      history.apply(decideStart(history.mission, 1));
      if (status === 'running') return history;
      history.apply(decideComplete(history.mission, 1, aResult()));
      if (status === 'evaluating') return history;
      if (status === 'succeeded') history.apply(decideEvaluate(history.mission, anEvaluation(1, true)));
      else history.apply(decideVerdict(history.mission, anEvaluation(1, false), 1));
      return history;
    };
    const after = new Date(Date.parse(DEADLINE) + 1);

    test.each(['queued', 'assigned', 'running', 'evaluating', 'dead_lettered'] as const)(
      'given a %s mission past its deadline, when checked, then MissionOverdue is appended once and the status stays',
      (status) => {
        const history = withDeadline(status);
        expect(eventsOf(decideOverdue(history.mission, after))).toEqual([{ type: 'MissionOverdue', data: { deadline: DEADLINE } }]);
        const mission = history.apply(decideOverdue(history.mission, after));
        expect(mission.status).toBe(status);
        expect(mission.overdueAt).toEqual(expect.any(String));
        expectSkip(decideOverdue(mission, new Date(after.getTime() + 60_000)));
      },
    );

    test.each(['succeeded', 'cancelled'] as const)('given a %s mission past its deadline, when checked, then it is skipped', (status) => {
      expectSkip(decideOverdue(withDeadline(status).mission, after));
    });

    test('given a mission before its deadline, or with none, when checked, then it is skipped', () => {
      expectSkip(decideOverdue(withDeadline('queued').mission, new Date(Date.parse(DEADLINE) - 1)));
      expectSkip(decideOverdue(created().mission, after));
    });

    describe('withLateness', () => {
      const OVERDUE: NewMissionEvent = { type: 'MissionOverdue', data: { deadline: DEADLINE } };

      test('given an evaluating mission past its deadline that no check recorded, when a passing verdict finishes it, then MissionOverdue comes first in the same step', () => {
        const history = withDeadline('evaluating');
        const verdict = decideEvaluate(history.mission, anEvaluation(1, true));
        const decision = withLateness(history.mission, verdict, after);
        expect(eventsOf(decision)).toEqual([OVERDUE, ...eventsOf(verdict)]);
        expect(history.apply(decision)).toMatchObject({ status: 'succeeded', overdueAt: expect.any(String) });
      });

      test('given a queued mission past its deadline, when it is cancelled, then MissionOverdue comes first in the same step', () => {
        const history = withDeadline('queued');
        expect(eventsOf(withLateness(history.mission, decideCancel(history.mission, 'not needed'), after))).toEqual([
          OVERDUE,
          { type: 'MissionCancelled', data: { reason: 'not needed' } },
        ]);
      });

      test('given a mission already recorded overdue, or finished before its deadline, or not finished by the step, then the decision is unchanged', () => {
        const recorded = withDeadline('evaluating');
        recorded.apply(decideOverdue(recorded.mission, after));
        const verdict = decideEvaluate(recorded.mission, anEvaluation(1, true));
        expect(withLateness(recorded.mission, verdict, after)).toEqual(verdict);

        const early = withDeadline('evaluating');
        const onTime = decideEvaluate(early.mission, anEvaluation(1, true));
        expect(withLateness(early.mission, onTime, new Date(Date.parse(DEADLINE) - 1))).toEqual(onTime);

        const running = withDeadline('running');
        const completed = decideComplete(running.mission, 1, aResult());
        expect(withLateness(running.mission, completed, after)).toEqual(completed);
        const cancelled = withDeadline('cancelled').mission;
        expectSkip(withLateness(cancelled, decideCancel(cancelled, 'again'), after));
      });
    });
  });

  describe('scheduling: decideCreate with notBefore, decideDue', () => {
    const NOW = new Date('2026-05-01T06:00:00.000Z');

    test('given a notBefore later than now, when created, then the mission is scheduled until then instead of queued', () => {
      const [createdEvent, scheduled] = decideCreate(aCreateInput({ notBefore: '2026-05-01T07:00:00.000Z' }), NOW);
      expect(createdEvent.data).toMatchObject({ notBefore: '2026-05-01T07:00:00.000Z' });
      expect(scheduled).toEqual({ type: 'MissionScheduled', data: { notBefore: '2026-05-01T07:00:00.000Z', reason: 'delayed', priorityScore: 34 } });
    });

    test('given a notBefore already past, when created, then the mission is queued at once', () => {
      const [, queued] = decideCreate(aCreateInput({ notBefore: '2026-05-01T05:00:00.000Z' }), NOW);
      expect(queued.type).toBe('MissionQueued');
    });

    test('given a scheduled mission, when its time comes, then it is queued (reason due) and its notBefore is gone; before that, it waits', () => {
      const history = new MissionHistory();
      history.append(decideCreate(aCreateInput({ notBefore: '2026-05-01T07:00:00.000Z' }), NOW));
      expect(history.mission).toMatchObject({ status: 'scheduled', notBefore: '2026-05-01T07:00:00.000Z' });
      expectSkip(decideDue(history.mission, new Date('2026-05-01T06:59:59.999Z')));

      const queued = history.apply(decideDue(history.mission, new Date('2026-05-01T07:00:00.000Z')));

      expect(history.events.at(-1)).toMatchObject({ type: 'MissionQueued', data: { reason: 'due', priorityScore: queued.priorityScore } });
      expect(queued.status).toBe('queued');
      expect(queued).not.toHaveProperty('notBefore');
      expectSkip(decideDue(queued, new Date('2026-05-01T08:00:00.000Z')));
    });

    test('given a scheduled mission, when cancelled, then it is cancelled', () => {
      const history = new MissionHistory();
      history.append(decideCreate(aCreateInput({ notBefore: '2026-05-01T07:00:00.000Z' }), NOW));
      expect(history.apply(decideCancel(history.mission, 'guest cancelled the stay')).status).toBe('cancelled');
    });
  });

  describe('retry backoff and permanent failures', () => {
    const backoff = { baseMs: 1_000, maxMs: 8_000, now: new Date('2026-05-01T06:00:00.000Z') };

    test('given a failed attempt with attempts left and a backoff, when decided, then the next attempt is scheduled after the backoff, with the feedback', () => {
      const history = created();
      const attempt = failEvaluation(history, 'agent-1');
      const [scheduled] = eventsOf(decideRetry(history.mission, attempt, MAX_ATTEMPTS, { backoff }));
      const wait = retryDelayMs(backoff, 1, history.mission.id, attempt);
      expect(scheduled).toEqual({
        type: 'MissionScheduled',
        data: {
          notBefore: new Date(backoff.now.getTime() + wait).toISOString(),
          reason: 'retry',
          priorityScore: history.mission.priorityScore,
          feedback: expect.any(String),
        },
      });
      const mission = history.apply(decideRetry(history.mission, attempt, MAX_ATTEMPTS, { backoff }));
      expect(mission).toMatchObject({ status: 'scheduled', assignedAgentId: null, previousAgentIds: ['agent-1'] });
    });

    test('given a backoff of 0 ms, when decided, then the next attempt is queued at once as before', () => {
      const history = created();
      const attempt = failEvaluation(history, 'agent-1');
      expect(eventsOf(decideRetry(history.mission, attempt, MAX_ATTEMPTS, { backoff: { ...backoff, baseMs: 0 } }))[0].type).toBe('MissionQueued');
    });

    test("given a provider's Retry-After, when decided, then the next attempt waits at least that long, also without a backoff, and at most an hour", () => {
      const history = created();
      const attempt = failEvaluation(history, 'agent-1');
      const notBefore = (options: RetryOptions) => {
        const [event] = eventsOf(decideRetry(history.mission, attempt, MAX_ATTEMPTS, options));
        return event.type === 'MissionScheduled' ? Date.parse(event.data.notBefore) - backoff.now.getTime() : event.type;
      };
      // It used to be left out: the next attempt came after RETRY_BASE_MS, long before the provider allowed it.
      expect(notBefore({ backoff, waitAtLeastMs: 300_000 })).toBe(300_000);
      expect(notBefore({ backoff: { ...backoff, baseMs: 0 }, waitAtLeastMs: 300_000 })).toBe(300_000);
      expect(notBefore({ backoff, waitAtLeastMs: 1 })).toBe(retryDelayMs(backoff, 1, history.mission.id, attempt));
      expect(notBefore({ backoff, waitAtLeastMs: 86_400_000 })).toBe(MAX_REQUESTED_WAIT_MS);
    });

    test('given a permanent failure with attempts left, when decided, then the mission is dead-lettered at once with the reason', () => {
      const history = created();
      const attempt = failEvaluation(history, 'agent-1');
      expect(eventsOf(decideRetry(history.mission, attempt, MAX_ATTEMPTS, { backoff, permanent: 'minRate 189 is above maxRate 169' }))).toEqual([
        { type: 'MissionDeadLettered', data: { reason: 'permanent failure: minRate 189 is above maxRate 169', attempts: 1, lastError: expect.any(String) } },
      ]);
    });

    test('property: the wait is between half and all of min(max, base × 2^(failures − 1)), and never shrinks by more than its jitter as failures grow', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 20 }),
          fc.string({ minLength: 1, maxLength: 36 }),
          fc.integer({ min: 1, max: 50 }),
          (failures, missionId, attempt) => {
            const step = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (failures - 1));
            const wait = retryDelayMs(backoff, failures, missionId, attempt);
            expect(wait).toBeGreaterThanOrEqual(Math.floor(step / 2));
            expect(wait).toBeLessThanOrEqual(step);
            expect(retryDelayMs(backoff, failures, missionId, attempt)).toBe(wait);
          },
        ),
      );
    });
  });
});
