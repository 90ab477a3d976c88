import { ShownMission, UNAVAILABLE_MARKER } from './live-stream-protocol';

/**
 * A mission in a list (GET /api/missions) whose stored state cannot be read: its read model `s` is
 * no mission, or its key holds another Redis type (changed by hand). Nothing of it is known but its
 * id, so its fields read UNAVAILABLE_MARKER, and `unavailable` says why and what an operator does,
 * in the words of the 409 its own routes answer. Listed rather than failing the whole page.
 */
export interface UnreadableMission {
  id: string;
  type: typeof UNAVAILABLE_MARKER;
  title: typeof UNAVAILABLE_MARKER;
  description: typeof UNAVAILABLE_MARKER;
  priority: typeof UNAVAILABLE_MARKER;
  status: typeof UNAVAILABLE_MARKER;
  unavailable: string;
}

/** A list's item: a mission, or one whose state cannot be read. */
export type ListedMission = ShownMission | UnreadableMission;

export function unreadableMission(id: string, unavailable: string): UnreadableMission {
  return {
    id,
    type: UNAVAILABLE_MARKER,
    title: UNAVAILABLE_MARKER,
    description: UNAVAILABLE_MARKER,
    priority: UNAVAILABLE_MARKER,
    status: UNAVAILABLE_MARKER,
    unavailable,
  };
}

export function isUnreadableMission(item: ListedMission): item is UnreadableMission {
  return item.status === UNAVAILABLE_MARKER;
}
