/**
 * What mission ids look like: UUIDv7, or UUIDv5 for deduplicated creates, in lowercase. The API's
 * routes take no other; the console checks a mission's address by it before asking for it.
 */
export const MISSION_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/**
 * What a mission id read from outside the services (an import's lines) must look like before a key
 * is made of it. The services write only MISSION_ID_PATTERN ids; this looser rule also takes the
 * ids of logs made by hand (the audit tests' `m-ok`), while keeping out an id that would name
 * another key (a `:`: mission `<id>:events`'s hash is mission `<id>`'s event list), move its keys
 * out of their partition's cluster slot (`{`, `}`), or break the one-line output of the replay CLI
 * (spaces, control characters).
 */
export const STORABLE_MISSION_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';

const STORABLE_MISSION_ID = new RegExp(STORABLE_MISSION_ID_PATTERN);

/** Whether `id` may be stored under a mission's keys (STORABLE_MISSION_ID_PATTERN). */
export function isStorableMissionId(id: string): boolean {
  return STORABLE_MISSION_ID.test(id);
}
