import { evolve } from './evolve';
import { assertTransition, requireStatus } from './lifecycle';
import { MissionEvent } from './mission-events';
import { Mission } from './mission-state';
import { MissionStatus } from './mission-status';

/**
 * `evolve` for bulk replays (rebuild, verify): the same result, key order included, but it changes
 * `state` itself instead of copying it for every event, which is most of the cost of folding a large
 * log. Only for a caller that owns `state` (a state nobody else holds); on an impossible history
 * it throws the same error as `evolve`, possibly after changing `state`, so drop the state then.
 * The review events, a few per reviewed mission, are folded by `evolve` itself, so for them a new
 * object comes back: always use the returned state. evolve-in-place.spec.ts checks that it equals
 * `evolve` on random histories.
 */
export function evolveInPlace(state: Mission | null, event: MissionEvent): Mission {
  if (event.type === 'MissionCreated' || !state) return evolve(state, event);
  switch (event.type) {
    case 'MissionQueued':
      assertTransition(state.status, 'queued');
      delete state.notBefore;
      state.priorityScore = event.data.priorityScore;
      state.feedback = event.data.feedback ?? state.feedback;
      releaseAgent(state);
      return moved(state, event, 'queued');
    case 'MissionScheduled':
      assertTransition(state.status, 'scheduled');
      state.notBefore = event.data.notBefore;
      state.priorityScore = event.data.priorityScore;
      state.feedback = event.data.feedback ?? state.feedback;
      releaseAgent(state);
      return moved(state, event, 'scheduled');
    case 'MissionAssigned':
      assertTransition(state.status, 'assigned');
      delete state.review;
      state.assignedAgentId = event.data.agentId;
      state.attempts = event.data.attempt;
      state.result = null;
      state.evaluation = null;
      state.lastError = null;
      return moved(state, event, 'assigned');
    case 'MissionStarted':
      assertTransition(state.status, 'running');
      return moved(state, event, 'running');
    case 'MissionCompleted':
      assertTransition(state.status, 'evaluating');
      state.result = event.data.result;
      return moved(state, event, 'evaluating');
    case 'MissionFailed':
      requireStatus(state.status, ['assigned', 'running'], 'queued');
      state.lastError = event.data.error;
      return moved(state, event, state.status);
    case 'MissionEvaluated': {
      requireStatus(state.status, ['evaluating'], 'succeeded');
      const { heldForReview, ...evaluation } = event.data;
      state.evaluation = evaluation;
      if (!evaluation.passed) {
        state.lastError = evaluation.reason;
        return moved(state, event, state.status);
      }
      if (heldForReview) return moved(state, event, state.status);
      assertTransition(state.status, 'succeeded');
      state.feedback = null;
      return moved(state, event, 'succeeded');
    }
    case 'MissionDeadLettered':
      assertTransition(state.status, 'dead_lettered');
      state.lastError = event.data.lastError;
      releaseAgent(state);
      return moved(state, event, 'dead_lettered');
    case 'MissionCancelled':
      assertTransition(state.status, 'cancelled');
      releaseAgent(state);
      return moved(state, event, 'cancelled');
    case 'MissionRequeued':
      assertTransition(state.status, 'queued');
      delete state.review;
      delete state.reviewRounds;
      if (event.data.attemptsReset) {
        state.attempts = 0;
      } else {
        state.attemptsAtRequeue = state.attempts;
      }
      state.priorityScore = event.data.priorityScore;
      state.feedback = null;
      state.result = null;
      state.evaluation = null;
      state.lastError = null;
      return moved(state, event, 'queued');
    case 'MissionReviewRequested':
    case 'MissionApproved':
    case 'MissionRejected':
    case 'MissionReviewOverdue':
      // A few per reviewed mission: a copy costs little here and keeps one definition of them.
      return evolve(state, event);
    case 'MissionOverdue':
      state.overdueAt = event.at;
      return moved(state, event, state.status);
    case 'SubjectErased':
      state.erasedSubjects = [...(state.erasedSubjects ?? []), event.data.subjectId];
      return moved(state, event, state.status);
    case 'LateReplyBilled':
      state.lateBilledRuns = [...(state.lateBilledRuns ?? []), event.data.runId];
      return moved(state, event, state.status);
    default:
      // An unknown type: evolve refuses it, with the same error.
      return evolve(state, event);
  }
}

function moved(state: Mission, event: MissionEvent, to: MissionStatus): Mission {
  state.version = event.version;
  state.updatedAt = event.at;
  state.status = to;
  return state;
}

/** The array is the state's own (evolve creates it with the mission), so it may grow in place. */
function releaseAgent(state: Mission): void {
  if (!state.assignedAgentId) return;
  state.previousAgentIds.push(state.assignedAgentId);
  state.assignedAgentId = null;
}
