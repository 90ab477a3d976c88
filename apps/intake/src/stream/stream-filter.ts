import { MissionEvent, MissionEventType, MissionStatus } from '@app/mission';

/** What a live-stream client asked to see; an absent field lets everything through. */
export interface StreamFilter {
  types?: ReadonlySet<MissionEventType>;
  missionId?: string;
  statuses?: ReadonlySet<MissionStatus>;
}

/**
 * The status an event puts its mission in, read off the event alone (as evolve does), or
 * undefined for the events that leave the status as it was (a failed attempt, a failed
 * evaluation: the retry's MissionQueued moves it on). Reading the event alone keeps the stream
 * from loading a mission per event it filters.
 */
export function statusAfter(event: MissionEvent): MissionStatus | undefined {
  switch (event.type) {
    case 'MissionCreated':
      return 'created';
    case 'MissionQueued':
    case 'MissionRequeued':
      return 'queued';
    case 'MissionAssigned':
      return 'assigned';
    case 'MissionStarted':
      return 'running';
    case 'MissionCompleted':
      return 'evaluating';
    case 'MissionEvaluated':
      return event.data.passed ? 'succeeded' : undefined;
    case 'MissionDeadLettered':
      return 'dead_lettered';
    case 'MissionCancelled':
      return 'cancelled';
    case 'MissionFailed':
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
