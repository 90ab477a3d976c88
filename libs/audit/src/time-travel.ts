import { evolve, Mission, MissionEvent } from '@app/mission';
import { missingVersions, VersionGap } from './history-view';

export interface PointInTime {
  /** Include events that happened at or before this instant. */
  at?: Date;
  /** Include events up to and including this version. */
  version?: number;
}

/** The events (one mission's) that a fold up to `point` takes, in version order. */
function eventsUpTo(events: readonly MissionEvent[], point: PointInTime): MissionEvent[] {
  const until = point.at?.getTime();
  if (until !== undefined && Number.isNaN(until)) throw new RangeError('stateAt: `at` is not a valid date');
  const taken: MissionEvent[] = [];
  for (const event of [...events].sort((a, b) => a.version - b.version)) {
    if (point.version !== undefined && event.version > point.version) break;
    if (until !== undefined && Date.parse(event.at) > until) break;
    taken.push(event);
  }
  return taken;
}

/**
 * The mission as it was at a point in its history: its events (one mission's, in version order)
 * folded up to `at` and/or `version`; with neither, the current state. Null when the mission did
 * not exist yet at that point. Pure.
 */
export function stateAt(events: readonly MissionEvent[], point: PointInTime = {}): Mission | null {
  let state: Mission | null = null;
  for (const event of eventsUpTo(events, point)) state = evolve(state, event);
  return state;
}

/**
 * The versions missing from `events` that a fold up to `point` would pass over (those below the last
 * version it takes): a state folded across them is one the mission never had. `listed` (the length
 * of the mission's event list) names versions lost after the last event too: their times are
 * unknown, so a fold that takes the last event and is not bounded by its version passes over them.
 */
export function gapsFoldedAcross(events: readonly MissionEvent[], point: PointInTime = {}, listed = 0): VersionGap[] {
  const taken = eventsUpTo(events, point);
  const last = taken.length > 0 ? taken[taken.length - 1].version : 0;
  const within = missingVersions(taken).filter((gap) => gap.from < last);
  const reachesEnd = taken.length > 0 && taken.length === events.length && (point.version === undefined || point.version > last);
  return reachesEnd ? [...within, ...missingVersions(events, listed).filter((gap) => gap.from > last)] : within;
}
