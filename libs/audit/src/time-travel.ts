import { evolve, Mission, MissionEvent } from '@app/mission';

export interface PointInTime {
  /** Include events that happened at or before this instant. */
  at?: Date;
  /** Include events up to and including this version. */
  version?: number;
}

/**
 * The mission as it was at a point in its history: its events (one mission's, in version order)
 * folded up to `at` and/or `version`; with neither, the current state. Null when the mission did
 * not exist yet at that point. Pure.
 */
export function stateAt(events: readonly MissionEvent[], point: PointInTime = {}): Mission | null {
  const until = point.at?.getTime();
  if (until !== undefined && Number.isNaN(until)) throw new RangeError('stateAt: `at` is not a valid date');
  let state: Mission | null = null;
  for (const event of [...events].sort((a, b) => a.version - b.version)) {
    if (point.version !== undefined && event.version > point.version) break;
    if (until !== undefined && Date.parse(event.at) > until) break;
    state = evolve(state, event);
  }
  return state;
}
