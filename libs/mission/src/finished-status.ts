import { MissionEvent } from './mission-events';
import { MissionStatus } from './mission-status';

/**
 * The status a mission ends in with this event, or null when the event does not end it: what the
 * webhooks call `mission.finished` and what the Odoo connector writes back on success. A
 * dead-lettered mission has ended its attempts (an operator may still requeue it; a requeued
 * mission can finish again). A result held for review succeeds with its approval (MissionApproved,
 * the reviewer's edit in the state's result), not with the verdict.
 */
export function finishedStatus(event: MissionEvent): MissionStatus | null {
  switch (event.type) {
    case 'MissionEvaluated':
      return event.data.passed && !event.data.heldForReview ? 'succeeded' : null;
    case 'MissionApproved':
      return 'succeeded';
    case 'MissionDeadLettered':
      return 'dead_lettered';
    case 'MissionCancelled':
      return 'cancelled';
    default:
      return null;
  }
}
