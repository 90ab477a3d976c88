import { MissionEvent, MissionEventType, MissionStatus } from '@app/mission';

/** What a live-stream client asked to see; an absent field lets everything through. */
export interface StreamFilter {
  types?: ReadonlySet<MissionEventType>;
  missionId?: string;
  statuses?: ReadonlySet<MissionStatus>;
}

/**
 * The status an event puts its mission in, read off the event alone (as evolve does), or
 * undefined for the events that leave the status as it was (a failed attempt, a failed or held
 * evaluation, a rejection: the MissionQueued or MissionReviewRequested after it moves it on; an
 * overdue mark). Reading the event alone keeps the stream
 * from loading a mission per event it filters.
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
      return undefined;
  }
}

export function matchesFilter(event: MissionEvent, filter: StreamFilter): boolean {
  if (filter.missionId !== undefined && event.missionId !== filter.missionId) return false;
  if (filter.types && !filter.types.has(event.type)) return false;
  if (filter.statuses) {
    const status = statusAfter(event);
    if (status === undefined || !filter.statuses.has(status)) return false;
  }
  return true;
}
