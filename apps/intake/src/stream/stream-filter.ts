import { MissionEvent, MissionEventType, MissionStatus, statusAfter } from '@app/mission';

/** What a live-stream client asked to see; an absent field lets everything through. */
export interface StreamFilter {
  types?: ReadonlySet<MissionEventType>;
  missionId?: string;
  statuses?: ReadonlySet<MissionStatus>;
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
