import { MissionEvent } from './mission-events';
import { MissionStatus } from './mission-status';

/**
 * The status a mission ends in with this event, or null when the event does not end it: what the
 * webhooks call `mission.finished` and what the Odoo connector writes back on success. A
 * dead-lettered mission has ended its attempts (an operator may still requeue it; a requeued
 * mission can finish again). Human review, where it applies, moves "succeeded" to the approval.
 */
export function finishedStatus(event: MissionEvent): MissionStatus | null {
  switch (event.type) {
    case 'MissionEvaluated':
      return event.data.passed ? 'succeeded' : null;
    case 'MissionDeadLettered':
      return 'dead_lettered';
    case 'MissionCancelled':
      return 'cancelled';
    default:
      return null;
  }
}
