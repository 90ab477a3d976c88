/**
 * What mission ids look like: UUIDv7, or UUIDv5 for deduplicated creates, in lowercase. The API's
 * routes take no other; the console checks a mission's address by it before asking for it.
 */
export const MISSION_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
