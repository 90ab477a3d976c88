import * as fc from 'fast-check';
import { aCreateInput, aResult, anEvaluation, toEnvelopes } from '@app/testing';
import { evolve } from './evolve';
import { evolveInPlace } from './evolve-in-place';
import { MissionEvent, NewMissionEvent } from './mission-events';
import { Mission } from './mission-state';

/** Any event, legal or not where it lands: the fold must agree with evolve on errors too. */
const anyEvent: fc.Arbitrary<NewMissionEvent> = fc.oneof(
  fc.record({ deadline: fc.boolean(), source: fc.boolean() }).map(({ deadline, source }): NewMissionEvent => ({
    type: 'MissionCreated',
    data: {
      ...aCreateInput(),
      requiredSkills: ['guest_communication'],
      ...(deadline ? { deadline: '2025-06-02T10:00:00.000Z' } : {}),
      ...(source ? { source: { system: 'odoo', model: 'helpdesk.ticket', recordId: 7 } } : {}),
    },
  })),
  fc
    .record({ score: fc.integer({ min: 0, max: 100 }), feedback: fc.option(fc.constantFrom('be shorter', 'name the time'), { nil: undefined }) })
    .map(({ score, feedback }): NewMissionEvent => ({
      type: 'MissionQueued',
      data: { priorityScore: score, reason: 'retry', ...(feedback ? { feedback } : {}) },
    })),
  fc
    .record({ agent: fc.constantFrom('agent-lena', 'agent-omar'), attempt: fc.integer({ min: 1, max: 3 }) })
    .map(({ agent, attempt }): NewMissionEvent => ({ type: 'MissionAssigned', data: { agentId: agent, attempt } })),
  fc.constant<NewMissionEvent>({ type: 'MissionStarted', data: { agentId: 'agent-lena', attempt: 1 } }),
  fc.constant<NewMissionEvent>({ type: 'MissionCompleted', data: { agentId: 'agent-lena', attempt: 1, result: aResult() } }),
  fc.constant<NewMissionEvent>({ type: 'MissionFailed', data: { agentId: 'agent-lena', attempt: 1, error: 'LLM timeout' } }),
  fc
    .record({ passed: fc.boolean(), held: fc.boolean() })
    .map(({ passed, held }): NewMissionEvent => ({ type: 'MissionEvaluated', data: { ...anEvaluation(1, passed), ...(held ? { heldForReview: true } : {}) } })),
  fc.constant<NewMissionEvent>({ type: 'MissionReviewRequested', data: { rule: 'guest-replies', attempt: 1 } }),
  fc.record({ note: fc.boolean(), edited: fc.boolean() }).map(({ note, edited }): NewMissionEvent => ({
    type: 'MissionApproved',
    data: { attempt: 1, ...(note ? { note: 'fine' } : {}), ...(edited ? { output: { reply: 'edited' } } : {}) },
  })),
  fc.integer({ min: 1, max: 3 }).map((round): NewMissionEvent => ({ type: 'MissionRejected', data: { attempt: 1, feedback: 'too curt', round } })),
  fc.constant<NewMissionEvent>({ type: 'MissionReviewOverdue', data: { attempt: 1, requestedAt: '2025-06-01T08:00:00.000Z', timeoutMs: 1000 } }),
  fc.constant<NewMissionEvent>({ type: 'MissionDeadLettered', data: { reason: 'max attempts', attempts: 3, lastError: 'LLM timeout' } }),
  fc.constant<NewMissionEvent>({ type: 'MissionCancelled', data: { reason: 'guest left' } }),
  fc.constant<NewMissionEvent>({ type: 'MissionRequeued', data: { reason: 'prompt fixed', priorityScore: 40 } }),
  fc.constant<NewMissionEvent>({ type: 'MissionOverdue', data: { deadline: '2025-06-02T10:00:00.000Z' } }),
  fc.constantFrom('run-1', 'run-2').map((runId): NewMissionEvent => ({
    type: 'LateReplyBilled',
    data: { attempt: 1, agentId: 'agent-lena', usage: { promptTokens: 3, completionTokens: 2 }, runId },
  })),
);

const CREATED: NewMissionEvent = { type: 'MissionCreated', data: { ...aCreateInput(), requiredSkills: [] } };

/** A legal start that reaches awaiting_review, so that random review events land where they may. */
const AWAITING_REVIEW: NewMissionEvent[] = [
  CREATED,
  { type: 'MissionQueued', data: { priorityScore: 30, reason: 'created' } },
  { type: 'MissionAssigned', data: { agentId: 'agent-lena', attempt: 1 } },
  { type: 'MissionStarted', data: { agentId: 'agent-lena', attempt: 1 } },
  { type: 'MissionCompleted', data: { agentId: 'agent-lena', attempt: 1, result: aResult() } },
  { type: 'MissionEvaluated', data: { ...anEvaluation(1, true), heldForReview: true } },
  { type: 'MissionReviewRequested', data: { rule: 'guest-replies', attempt: 1 } },
];

/** Folds until the first error; the outcome is the JSON of the state (key order counts) or the error. */
function outcome(events: readonly MissionEvent[], step: (state: Mission | null, event: MissionEvent) => Mission): string[] {
  const seen: string[] = [];
  let state: Mission | null = null;
  for (const event of events) {
    try {
      state = step(state, event);
      seen.push(JSON.stringify(state));
    } catch (error) {
      seen.push(`error: ${error instanceof Error ? `${error.name} ${error.message}` : String(error)}`);
      return seen;
    }
  }
  return seen;
}

describe('evolveInPlace', () => {
  it('given any history, legal or not, when folded in place, then every state (key order included) and the first error equal evolve', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 25 }), fc.constantFrom('nothing', 'created', 'awaiting review'), (events, start) => {
        const history = toEnvelopes([...(start === 'nothing' ? [] : start === 'created' ? [CREATED] : AWAITING_REVIEW), ...events]);
        expect(outcome(history, evolveInPlace)).toEqual(outcome(history, evolve));
      }),
      { numRuns: 2_000 },
    );
  });

  it('given a state, when folded in place, then the same object comes back with the change; the event data is not touched', () => {
    const [created, queued, assigned, cancelled] = toEnvelopes([
      { type: 'MissionCreated', data: { ...aCreateInput(), requiredSkills: [] } },
      { type: 'MissionQueued', data: { priorityScore: 30, reason: 'created' } },
      { type: 'MissionAssigned', data: { agentId: 'agent-lena', attempt: 1 } },
      { type: 'MissionCancelled', data: { reason: 'guest left' } },
    ]);
    const state = evolveInPlace(null, created);
    const frozen = JSON.stringify([queued, assigned, cancelled]);
    expect(evolveInPlace(evolveInPlace(evolveInPlace(state, queued), assigned), cancelled)).toBe(state);
    expect(state).toMatchObject({ status: 'cancelled', version: 4, assignedAgentId: null, previousAgentIds: ['agent-lena'] });
    expect(JSON.stringify([queued, assigned, cancelled])).toBe(frozen);
  });
});
