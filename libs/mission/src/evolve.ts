import { assertTransition, IllegalTransitionError, requireStatus } from './lifecycle';
import { MissionEvent } from './mission-events';
import { Mission, MissionReview } from './mission-state';
import { MissionStatus } from './mission-status';
import { UnknownEventTypeError } from './unknown-event-type-error';

/** The state before any event. */
export const initialState = (): Mission | null => null;

/** Folds one event into the mission. Pure; throws IllegalTransitionError on an impossible history. */
export function evolve(state: Mission | null, event: MissionEvent): Mission {
  if (event.type === 'MissionCreated') {
    if (state) throw new IllegalTransitionError(state.status, 'created');
    const d = event.data;
    return {
      id: event.missionId,
      type: d.type,
      title: d.title,
      description: d.description,
      priority: d.priority,
      priorityScore: 0,
      requiredSkills: d.requiredSkills,
      payload: d.payload,
      ...(d.deadline ? { deadline: d.deadline } : {}),
      ...(d.source ? { source: d.source } : {}),
      ...(d.subjects?.length ? { subjects: d.subjects } : {}),
      status: 'created',
      attempts: 0,
      assignedAgentId: null,
      previousAgentIds: [],
      result: null,
      evaluation: null,
      feedback: null,
      lastError: null,
      correlationId: event.correlationId,
      createdBy: event.actor,
      version: event.version,
      createdAt: event.at,
      updatedAt: event.at,
    };
  }
  if (!state) throw new IllegalTransitionError(undefined, 'queued');
  const next: Mission = { ...state, version: event.version, updatedAt: event.at };
  switch (event.type) {
    case 'MissionQueued':
      return moveTo(withoutNotBefore(next), 'queued', waitingAgain(state, event.data));
    case 'MissionScheduled':
      return moveTo(next, 'scheduled', { notBefore: event.data.notBefore, ...waitingAgain(state, event.data) });
    case 'MissionAssigned':
      // A new attempt's result will be reviewed afresh, if at all.
      return moveTo(withoutReview(next), 'assigned', {
        assignedAgentId: event.data.agentId,
        attempts: event.data.attempt,
        result: null,
        evaluation: null,
        lastError: null,
      });
    case 'MissionStarted':
      return moveTo(next, 'running', {});
    case 'MissionCompleted':
      return moveTo(next, 'evaluating', { result: event.data.result });
    case 'MissionFailed':
      requireStatus(state.status, ['assigned', 'running'], 'queued');
      return { ...next, lastError: event.data.error };
    case 'MissionEvaluated': {
      requireStatus(state.status, ['evaluating'], 'succeeded');
      const { heldForReview, ...evaluation } = event.data;
      if (evaluation.passed && !heldForReview) return moveTo(next, 'succeeded', { evaluation, feedback: null });
      if (evaluation.passed) return { ...next, evaluation };
      return { ...next, evaluation, lastError: evaluation.reason };
    }
    case 'MissionDeadLettered':
      return moveTo(next, 'dead_lettered', { lastError: event.data.lastError, ...releaseAgent(state) });
    case 'MissionCancelled':
      return moveTo(next, 'cancelled', releaseAgent(state));
    case 'MissionRequeued':
      return moveTo(withoutReviewRounds(withoutReview(next)), 'queued', {
        ...(event.data.attemptsReset ? { attempts: 0 } : { attemptsAtRequeue: state.attempts }),
        priorityScore: event.data.priorityScore,
        feedback: null,
        result: null,
        evaluation: null,
        lastError: null,
      });
    case 'MissionReviewRequested':
      requireStatus(state.status, ['evaluating'], 'awaiting_review');
      if (!state.evaluation?.passed) throw new IllegalTransitionError(state.status, 'awaiting_review');
      return moveTo(next, 'awaiting_review', { review: { attempt: event.data.attempt, rule: event.data.rule, requestedAt: event.at } });
    case 'MissionApproved': {
      const review = reviewOf(state, 'succeeded');
      const edited = event.data.output;
      const decided: MissionReview = {
        ...review,
        decision: 'approved',
        reviewedBy: event.actor,
        reviewedAt: event.at,
        ...(event.data.note === undefined ? {} : { note: event.data.note }),
        ...(edited && state.result ? { originalOutput: state.result.output } : {}),
      };
      return moveTo(next, 'succeeded', {
        feedback: null,
        review: decided,
        ...(edited && state.result ? { result: { ...state.result, output: edited } } : {}),
      });
    }
    case 'MissionRejected': {
      const review = reviewOf(state, 'queued');
      return {
        ...next,
        reviewRounds: event.data.round,
        attemptsAtRejection: state.attempts,
        review: { ...review, decision: 'rejected', reviewedBy: event.actor, reviewedAt: event.at, feedback: event.data.feedback },
      };
    }
    case 'MissionReviewOverdue':
      return { ...next, review: { ...reviewOf(state, 'awaiting_review'), overdueAt: event.at } };
    case 'MissionOverdue':
      // No status change: the mission goes on as it was, now known to be late.
      return { ...next, overdueAt: event.at };
    case 'SubjectErased':
      // No status change: a mission in flight is cancelled by the MissionCancelled of the same step.
      return { ...next, erasedSubjects: [...(state.erasedSubjects ?? []), event.data.subjectId] };
    case 'LateReplyBilled':
      // No status change: the attempt it answered is over; it only records what the reply cost.
      return { ...next, lateBilledRuns: [...(state.lateBilledRuns ?? []), event.data.runId] };
    default:
      // Only a log changed by hand holds one: folding on past it would give a state no event made.
      throw new UnknownEventTypeError((event as { type: unknown }).type);
  }
}

/** The review a reviewer's event acts on: the mission must be awaiting it, undecided. */
function reviewOf(state: Mission, attempted: MissionStatus): MissionReview {
  if (state.status !== 'awaiting_review' || !state.review || state.review.decision) throw new IllegalTransitionError(state.status, attempted);
  return state.review;
}

/** The mission without its review (a new attempt's result is reviewed afresh, if at all). */
function withoutReview(state: Mission): Mission {
  if (!state.review) return state;
  const { review: _review, ...rest } = state;
  return rest;
}

/** A requeue starts the review rounds again, as it starts the attempts again. */
function withoutReviewRounds(state: Mission): Mission {
  if (state.reviewRounds === undefined) return state;
  const { reviewRounds: _rounds, ...rest } = state;
  return rest;
}

export function fold(events: readonly MissionEvent[]): Mission | null {
  return events.reduce<Mission | null>(evolve, initialState());
}

function moveTo(state: Mission, to: MissionStatus, changes: Partial<Mission>): Mission {
  assertTransition(state.status, to);
  return { ...state, ...changes, status: to };
}

/** Waiting for an agent (now or later): its score, the feedback for the next attempt, no agent. */
function waitingAgain(state: Mission, data: { priorityScore: number; feedback?: string }): Partial<Mission> {
  return { priorityScore: data.priorityScore, feedback: data.feedback ?? state.feedback, ...releaseAgent(state) };
}

/** A mission leaving `scheduled` has no time to wait for any more. */
function withoutNotBefore(state: Mission): Mission {
  const { notBefore: _waited, ...rest } = state;
  return rest;
}

/** The agent stops holding the mission; remembered so a retry can prefer another agent. */
function releaseAgent(state: Mission): Partial<Mission> {
  if (!state.assignedAgentId) return {};
  return { assignedAgentId: null, previousAgentIds: [...state.previousAgentIds, state.assignedAgentId] };
}
