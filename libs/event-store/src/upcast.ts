import { CURRENT_SCHEMA_VERSION, MissionEvent } from '@app/mission';
import { eventProblem } from './event-problem';

/**
 * Turns an event as stored into the current schema, step by step (v1 → v2 …), instead of rewriting
 * the log (its hash chains cover the stored JSON). v1 → v2: a requeue reset the attempt count.
 * v2 → v3: no change (MissionOverdue was added). v3 → v4: no change (the review events were added).
 * v4 → v5: no change (subjects and SubjectErased were added; older personal fields are plain).
 * v5 → v6: no change (new personal fields are enc:v2 tokens; the v5 events' enc:v1 tokens still open).
 * v6 → v7: no change (new personal fields are enc:v3 groups; the v6 events' enc:v2 tokens still open).
 * v7 → v8: no change (LateReplyBilled was added).
 * An event that cannot be replayed (eventProblem: an unknown type, a field its type always has
 * missing) is refused with the reason as the error's message.
 */
export function upcast(stored: Record<string, unknown>): MissionEvent {
  const version = typeof stored.schemaVersion === 'number' ? stored.schemaVersion : 1;
  if (version > CURRENT_SCHEMA_VERSION) {
    throw new Error(`event ${String(stored.eventId)} has schema version ${version}, newer than this build (${CURRENT_SCHEMA_VERSION})`);
  }
  // A type no build writes or a field missing: folded, it would make a state no event made (or none at all).
  const problem = eventProblem(stored);
  if (problem) throw new Error(problem);
  // Already current: no copy (replays upcast every event of the log).
  if (stored.schemaVersion === CURRENT_SCHEMA_VERSION) return stored as unknown as MissionEvent;
  const data = stored.type === 'MissionRequeued' && version < 2 ? { ...(stored.data as object), attemptsReset: true } : stored.data;
  return { ...stored, data, schemaVersion: CURRENT_SCHEMA_VERSION } as unknown as MissionEvent;
}
