import { CURRENT_SCHEMA_VERSION, MissionEvent } from '@app/mission';

/**
 * Turns an event as stored into the current schema. Every event is at schema version 1 today;
 * a future change adds a step here (v1 → v2 …) instead of rewriting the log.
 */
export function upcast(stored: Record<string, unknown>): MissionEvent {
  const version = typeof stored.schemaVersion === 'number' ? stored.schemaVersion : 1;
  if (version > CURRENT_SCHEMA_VERSION) {
    throw new Error(`event ${String(stored.eventId)} has schema version ${version}, newer than this build (${CURRENT_SCHEMA_VERSION})`);
  }
  // Already current: no copy (replays upcast every event of the log).
  if (stored.schemaVersion === CURRENT_SCHEMA_VERSION) return stored as unknown as MissionEvent;
  return { ...stored, schemaVersion: CURRENT_SCHEMA_VERSION } as unknown as MissionEvent;
}
