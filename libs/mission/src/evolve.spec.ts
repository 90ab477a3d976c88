import { aResult, anEvaluation, atOfVersion, MissionHistory, TEST_CORRELATION_ID, TEST_MISSION_ID, toEnvelopes } from '@app/testing';
import { evolve, fold, initialState } from './evolve';
import { IllegalTransitionError } from './lifecycle';
import { CURRENT_SCHEMA_VERSION, MissionEvent, MissionEventData, NewMissionEvent } from './mission-events';
import { Mission } from './mission-state';
import { MissionStatus } from './mission-status';

const createdData: MissionEventData['MissionCreated'] = {
  type: 'maintenance',
  title: 'Leaking tap in room 12',
  description: 'Guest reports a leaking bathroom tap.',
  priority: 'high',
  requiredSkills: ['facility_maintenance'],
  payload: { room: '12', safetyIssue: false },
};
const created: NewMissionEvent = { type: 'MissionCreated', data: createdData };
const queued: NewMissionEvent = { type: 'MissionQueued', data: { priorityScore: 61, reason: 'created' } };
const assigned = (attempt: number, agentId = `agent-${attempt}`): NewMissionEvent => ({
  type: 'MissionAssigned',
  data: { agentId, attempt },
});
const started = (attempt: number, agentId = `agent-${attempt}`): NewMissionEvent => ({
  type: 'MissionStarted',
  data: { agentId, attempt },
});
const completed = (attempt: number, agentId = `agent-${attempt}`): NewMissionEvent => ({
  type: 'MissionCompleted',
  data: { agentId, attempt, result: aResult({ output: { attempt } }) },
});
const failed = (attempt: number, error = `boom ${attempt}`, agentId = `agent-${attempt}`): NewMissionEvent => ({
  type: 'MissionFailed',
  data: { agentId, attempt, error },
});
const evaluated = (attempt: number, passed: boolean): NewMissionEvent => ({
  type: 'MissionEvaluated',
  data: anEvaluation(attempt, passed),
});
const retried = (feedback?: string): NewMissionEvent => ({
  type: 'MissionQueued',
  data: { priorityScore: 61, reason: 'retry', ...(feedback ? { feedback } : {}) },
});
const deadLettered = (attempts: number, lastError: string): NewMissionEvent => ({
  type: 'MissionDeadLettered',
  data: { reason: `failed ${attempts} of ${attempts} attempts`, attempts, lastError },
});
const cancelled: NewMissionEvent = { type: 'MissionCancelled', data: { reason: 'guest left' } };
const requeued: NewMissionEvent = { type: 'MissionRequeued', data: { reason: 'operator retry', priorityScore: 70 } };

const foldAll = (events: readonly NewMissionEvent[]): Mission | null => fold(toEnvelopes(events));

function mustFold(events: readonly NewMissionEvent[]): Mission {
  const mission = foldAll(events);
  if (!mission) throw new Error('expected a mission');
  return mission;
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

const HAPPY: readonly NewMissionEvent[] = [created, queued, assigned(1), started(1), completed(1), evaluated(1, true)];

describe('evolve / fold', () => {
  describe('given no events', () => {
    test('when folded, then there is no mission', () => {
      expect(initialState()).toBeNull();
      expect(fold([])).toBeNull();
    });
  });

  describe('given only MissionCreated', () => {
    test('when folded, then the mission is created with the submitted fields and empty bookkeeping', () => {
      const mission = mustFold([created]);
      expect(mission).toEqual<Mission>({
        id: TEST_MISSION_ID,
        type: 'maintenance',
        title: 'Leaking tap in room 12',
        description: 'Guest reports a leaking bathroom tap.',
        priority: 'high',
        priorityScore: 0,
        requiredSkills: ['facility_maintenance'],
        payload: { room: '12', safetyIssue: false },
        status: 'created',
        attempts: 0,
        assignedAgentId: null,
        previousAgentIds: [],
        result: null,
        evaluation: null,
        feedback: null,
        lastError: null,
        correlationId: TEST_CORRELATION_ID,
        createdBy: 'test',
        version: 1,
        createdAt: atOfVersion(1),
        updatedAt: atOfVersion(1),
      });
    });

    test("when folded, then its creator is the create's actor, kept by every later event", () => {
      const [create, ...rest] = toEnvelopes([created, queued, assigned(1)]);
      const mission = fold([{ ...create, actor: 'partner-a' }, ...rest.map((event) => ({ ...event, actor: 'orchestrator' }))]);
      expect(mission?.createdBy).toBe('partner-a');
      expect(mission?.version).toBe(3);
    });

    test('when it has no deadline or source, then the mission carries neither key', () => {
      const mission = mustFold([created]);
      expect(mission).not.toHaveProperty('deadline');
      expect(mission).not.toHaveProperty('source');
    });

    test('when it has a deadline and a source, then both are copied', () => {
      const source = { system: 'odoo', model: 'helpdesk.ticket', recordId: 4711 };
      const mission = mustFold([{ type: 'MissionCreated', data: { ...createdData, deadline: '2025-06-02T10:00:00Z', source } }]);
      expect(mission.deadline).toBe('2025-06-02T10:00:00Z');
      expect(mission.source).toEqual(source);
    });
  });

  describe('given the creation pair (MissionCreated, MissionQueued)', () => {
    test('when folded, then the mission is queued with the score of the queue event and version 2', () => {
      const mission = mustFold([created, queued]);
      expect(mission.status).toBe('queued');
      expect(mission.priorityScore).toBe(61);
      expect(mission.version).toBe(2);
      expect(mission.createdAt).toBe(atOfVersion(1));
      expect(mission.updatedAt).toBe(atOfVersion(2));
    });
  });

  describe('given a full happy history (Created, Queued, Assigned, Started, Completed, Evaluated passed)', () => {
    test('when folded, then the mission succeeded with attempts, result, evaluation, version and timestamps', () => {
      const mission = mustFold(HAPPY);
      expect(mission).toMatchObject<Partial<Mission>>({
        status: 'succeeded',
        attempts: 1,
        assignedAgentId: 'agent-1',
        previousAgentIds: [],
        result: aResult({ output: { attempt: 1 } }),
        evaluation: anEvaluation(1, true),
        feedback: null,
        lastError: null,
        priorityScore: 61,
        version: 6,
        createdAt: atOfVersion(1),
        updatedAt: atOfVersion(6),
      });
    });

    test('when folded step by step, then each event moves the status and sets version and updatedAt', () => {
      const envelopes = toEnvelopes(HAPPY);
      const statuses: MissionStatus[] = ['created', 'queued', 'assigned', 'running', 'evaluating', 'succeeded'];
      let state: Mission | null = null;
      for (const [i, event] of envelopes.entries()) {
        const next: Mission = evolve(state, event);
        expect(next.status).toBe(statuses[i]);
        expect(next.version).toBe(event.version);
        expect(next.updatedAt).toBe(event.at);
        expect(next.createdAt).toBe(envelopes[0].at);
        state = next;
      }
    });

    test('when a step is folded, then the previous state is not mutated', () => {
      const envelopes = toEnvelopes(HAPPY);
      let state: Mission | null = null;
      for (const event of envelopes) {
        const before = state === null ? null : structuredClone(state);
        const next = evolve(state, event);
        expect(state).toEqual(before);
        expect(next).not.toBe(state);
        state = next;
      }
    });
  });

  describe('given a running attempt', () => {
    const running = [created, queued, assigned(1), started(1)];

    test('when MissionFailed arrives, then lastError is set and the status stays running', () => {
      const mission = mustFold([...running, failed(1, 'timeout')]);
      expect(mission.status).toBe('running');
      expect(mission.lastError).toBe('timeout');
      expect(mission.assignedAgentId).toBe('agent-1');
    });

    test('when it is retried after failing, then the agent is released into previousAgentIds', () => {
      const mission = mustFold([...running, failed(1), retried()]);
      expect(mission.status).toBe('queued');
      expect(mission.assignedAgentId).toBeNull();
      expect(mission.previousAgentIds).toEqual(['agent-1']);
      expect(mission.attempts).toBe(1);
    });

    test('when it is dead-lettered, then lastError comes from the event and the agent is released', () => {
      const mission = mustFold([...running, failed(1, 'boom'), deadLettered(1, 'final boom')]);
      expect(mission.status).toBe('dead_lettered');
      expect(mission.lastError).toBe('final boom');
      expect(mission.assignedAgentId).toBeNull();
      expect(mission.previousAgentIds).toEqual(['agent-1']);
    });

    test('when it is cancelled, then the agent is released', () => {
      const mission = mustFold([...running, cancelled]);
      expect(mission.status).toBe('cancelled');
      expect(mission.assignedAgentId).toBeNull();
      expect(mission.previousAgentIds).toEqual(['agent-1']);
    });

    test('when it is cancelled and its billed reply comes late, then LateReplyBilled names the run and the mission stays cancelled', () => {
      const lateReply: NewMissionEvent = {
        type: 'LateReplyBilled',
        data: { attempt: 1, agentId: 'agent-1', usage: { promptTokens: 10, completionTokens: 5 }, runId: 'run-1' },
      };
      const before = mustFold([...running, cancelled]);
      const mission = mustFold([...running, cancelled, lateReply]);
      expect(mission).toEqual({ ...before, version: 6, updatedAt: atOfVersion(6), lateBilledRuns: ['run-1'] });
    });
  });

  describe('given an assigned attempt', () => {
    test('when MissionFailed arrives before it started, then lastError is set and the status stays assigned', () => {
      const mission = mustFold([created, queued, assigned(1), failed(1, 'agent unreachable')]);
      expect(mission.status).toBe('assigned');
      expect(mission.lastError).toBe('agent unreachable');
    });
  });

  describe('given a queued mission with no agent', () => {
    test('when it is cancelled, then previousAgentIds stays empty', () => {
      const mission = mustFold([created, queued, cancelled]);
      expect(mission.status).toBe('cancelled');
      expect(mission.previousAgentIds).toEqual([]);
      expect(mission.assignedAgentId).toBeNull();
    });
  });

  describe('given a completed attempt under evaluation', () => {
    const evaluating = [created, queued, assigned(1), started(1), completed(1)];

    test('when the evaluation fails, then the status stays evaluating with the evaluation and its reason as lastError', () => {
      const mission = mustFold([...evaluating, evaluated(1, false)]);
      expect(mission.status).toBe('evaluating');
      expect(mission.evaluation).toEqual(anEvaluation(1, false));
      expect(mission.lastError).toBe(anEvaluation(1, false).reason);
      expect(mission.result).toEqual(aResult({ output: { attempt: 1 } }));
    });

    test('when retried with feedback and run again by another agent, then feedback, attempts and previous agents follow', () => {
      const reason = anEvaluation(1, false).reason;
      const afterRetry = mustFold([...evaluating, evaluated(1, false), retried(reason)]);
      expect(afterRetry).toMatchObject<Partial<Mission>>({
        status: 'queued',
        feedback: reason,
        assignedAgentId: null,
        previousAgentIds: ['agent-1'],
        attempts: 1,
      });

      const secondRun = mustFold([...evaluating, evaluated(1, false), retried(reason), assigned(2), started(2), completed(2), evaluated(2, true)]);
      expect(secondRun).toMatchObject<Partial<Mission>>({
        status: 'succeeded',
        attempts: 2,
        assignedAgentId: 'agent-2',
        previousAgentIds: ['agent-1'],
        feedback: null,
        result: aResult({ output: { attempt: 2 } }),
        evaluation: anEvaluation(2, true),
        version: 11,
      });
    });

    test('when a later retry comes without feedback, then the earlier feedback is kept', () => {
      const mission = mustFold([...evaluating, evaluated(1, false), retried('be more specific'), assigned(2), started(2), failed(2), retried()]);
      expect(mission.feedback).toBe('be more specific');
      expect(mission.previousAgentIds).toEqual(['agent-1', 'agent-2']);
    });
  });

  describe('given a dead-lettered mission', () => {
    const dead = [created, queued, assigned(1), started(1), completed(1), evaluated(1, false), deadLettered(1, 'bad')];

    test('when it is requeued, then attempts keep their count, the requeue point is kept, the new score applies and feedback is cleared', () => {
      const withFeedback = [
        created,
        queued,
        assigned(1),
        started(1),
        completed(1),
        evaluated(1, false),
        retried('try harder'),
        assigned(2),
        started(2),
        failed(2),
        deadLettered(2, 'bad'),
      ];
      expect(mustFold(withFeedback).feedback).toBe('try harder');
      const mission = mustFold([...withFeedback, requeued]);
      expect(mission).toMatchObject<Partial<Mission>>({
        status: 'queued',
        attempts: 2,
        attemptsAtRequeue: 2,
        priorityScore: 70,
        feedback: null,
        assignedAgentId: null,
        previousAgentIds: ['agent-1', 'agent-2'],
      });
    });

    test('when requeued and assigned again, then the new attempt is the next number of its life', () => {
      const mission = mustFold([...dead, requeued, assigned(2, 'agent-9')]);
      expect(mission.attempts).toBe(2);
      expect(mission.attemptsAtRequeue).toBe(1);
      expect(mission.assignedAgentId).toBe('agent-9');
      expect(mission.status).toBe('assigned');
    });
  });

  describe('given an impossible history', () => {
    interface IllegalCase {
      name: string;
      events: NewMissionEvent[];
      from: MissionStatus | undefined;
      /** Left out where evolve has no meaningful target (it reports 'queued' for any event before MissionCreated). */
      to?: MissionStatus;
    }
    const cases: IllegalCase[] = [
      { name: 'MissionQueued before MissionCreated', events: [queued], from: undefined, to: 'queued' },
      { name: 'MissionAssigned before MissionCreated', events: [assigned(1)], from: undefined },
      { name: 'MissionCreated twice', events: [created, queued, created], from: 'queued', to: 'created' },
      { name: 'MissionQueued twice', events: [created, queued, queued], from: 'queued', to: 'queued' },
      { name: 'MissionAssigned right after MissionCreated', events: [created, assigned(1)], from: 'created', to: 'assigned' },
      { name: 'MissionStarted while queued', events: [created, queued, started(1)], from: 'queued', to: 'running' },
      { name: 'MissionStarted twice', events: [created, queued, assigned(1), started(1), started(1)], from: 'running', to: 'running' },
      {
        name: 'MissionCompleted while assigned',
        events: [created, queued, assigned(1), completed(1)],
        from: 'assigned',
        to: 'evaluating',
      },
      {
        name: 'MissionEvaluated while running',
        events: [created, queued, assigned(1), started(1), evaluated(1, true)],
        from: 'running',
        to: 'succeeded',
      },
      { name: 'MissionEvaluated after success', events: [...HAPPY, evaluated(1, true)], from: 'succeeded', to: 'succeeded' },
      { name: 'MissionFailed while queued', events: [created, queued, failed(1)], from: 'queued', to: 'queued' },
      {
        name: 'MissionFailed while evaluating',
        events: [created, queued, assigned(1), started(1), completed(1), failed(1)],
        from: 'evaluating',
        to: 'queued',
      },
      { name: 'MissionAssigned after cancellation', events: [created, queued, cancelled, assigned(1)], from: 'cancelled', to: 'assigned' },
      { name: 'MissionCancelled twice', events: [created, queued, cancelled, cancelled], from: 'cancelled', to: 'cancelled' },
      { name: 'MissionDeadLettered after success', events: [...HAPPY, deadLettered(1, 'x')], from: 'succeeded', to: 'dead_lettered' },
      { name: 'MissionRequeued while queued', events: [created, queued, requeued], from: 'queued', to: 'queued' },
      { name: 'MissionRequeued after success', events: [...HAPPY, requeued], from: 'succeeded', to: 'queued' },
      { name: 'MissionQueued after success', events: [...HAPPY, retried()], from: 'succeeded', to: 'queued' },
      {
        name: 'MissionAssigned while dead-lettered',
        events: [created, queued, deadLettered(0, 'x'), assigned(1)],
        from: 'dead_lettered',
        to: 'assigned',
      },
    ];

    test.each(cases)('when folding "$name", then evolve throws IllegalTransitionError from $from', ({ events, from, to }) => {
      const error = errorOf(() => foldAll(events));
      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect(error).toMatchObject({ code: 'ILLEGAL_TRANSITION', from, ...(to ? { to } : {}) });
    });

    test('when evolve throws, then the state it was given is left untouched', () => {
      const envelopes: MissionEvent[] = toEnvelopes([created, queued, started(1)]);
      const queuedState = fold(envelopes.slice(0, 2));
      const snapshot = structuredClone(queuedState);
      expect(() => evolve(queuedState, envelopes[2])).toThrow(IllegalTransitionError);
      expect(queuedState).toEqual(snapshot);
    });
  });
});

describe('MissionHistory test helper', () => {
  test('given events appended in two batches, when enveloped, then versions, causation and schemaVersion are contiguous', () => {
    const history = new MissionHistory();
    history.append([created, queued]);
    history.append([assigned(1)]);
    expect(history.events.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(history.events.map((e) => e.schemaVersion)).toEqual([CURRENT_SCHEMA_VERSION, CURRENT_SCHEMA_VERSION, CURRENT_SCHEMA_VERSION]);
    expect(history.events[1].causationId).toBe(history.events[0].eventId);
    expect(history.events[2].causationId).toBe(history.events[1].eventId);
    expect(new Set(history.events.map((e) => e.eventId)).size).toBe(3);
    expect(history.mission.version).toBe(3);
  });
});
