import { MissionEvent } from './mission-events';
import { MissionStatus } from './mission-status';

/**
 * The status an event puts its mission in, read off the event alone (as evolve does), or
 * undefined for the events that leave the status as it was (a failed attempt, a failed or held
 * evaluation, a rejection: the MissionQueued or MissionReviewRequested after it moves it on; an
 * overdue mark). Reading the event alone keeps the live
 * stream from loading a mission per event it filters.
 */
export function statusAfter(event: MissionEvent): MissionStatus | undefined {
  switch (event.type) {
    case 'MissionCreated':
      return 'created';
    case 'MissionQueued':
    case 'MissionRequeued':
      return 'queued';
    case 'MissionScheduled':
      return 'scheduled';
    case 'MissionAssigned':
      return 'assigned';
    case 'MissionStarted':
      return 'running';
    case 'MissionCompleted':
      return 'evaluating';
    case 'MissionEvaluated':
      return event.data.passed && !event.data.heldForReview ? 'succeeded' : undefined;
    case 'MissionReviewRequested':
      return 'awaiting_review';
    case 'MissionApproved':
      return 'succeeded';
    case 'MissionDeadLettered':
      return 'dead_lettered';
    case 'MissionCancelled':
      return 'cancelled';
    case 'MissionFailed':
    case 'MissionRejected':
    case 'MissionReviewOverdue':
    case 'MissionOverdue':
    case 'SubjectErased':
    case 'LateReplyBilled':
      return undefined;
  }
}

/** The final statuses finishedStatus reports (a dead letter ends the attempts, though it can be requeued). */
const FINISHING: ReadonlySet<MissionStatus> = new Set(['succeeded', 'dead_lettered', 'cancelled']);

/**
 * The status a mission ends in with this event, or null when the event does not end it: what the
 * webhooks call `mission.finished` and what the Odoo connector writes back on success. A
 * dead-lettered mission has ended its attempts (an operator may still requeue it; a requeued
 * mission can finish again). A result held for review succeeds with its approval (MissionApproved,
 * the reviewer's edit in the state's result), not with the verdict.
 */
export function finishedStatus(event: MissionEvent): MissionStatus | null {
  const status = statusAfter(event);
  return status !== undefined && FINISHING.has(status) ? status : null;
}
