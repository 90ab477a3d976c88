import { Mission, MISSION_STATUSES, MISSION_TYPES } from '@app/mission';
import { isWrongTypeError } from '@app/redis';
import { UnreadableStoredDataError } from './unreadable-stored-data-error';

const STATUSES = new Set<string>(MISSION_STATUSES);
const TYPES = new Set<string>(MISSION_TYPES);

/**
 * A mission's read model `s` as a Mission, or UnreadableStoredDataError when it is none: not JSON,
 * or not this mission's state (another id, no known status or type, no version). The append
 * script only ever writes the JSON of a fold, so such a value was set by hand; read as it is, it
 * failed every list it was in (a 500 for everyone).
 */
export function parseStoredMission(missionId: string, json: string): Mission {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new UnreadableStoredDataError(missionId, 'its state in the read model (s) is not JSON');
  }
  const problem = notAMission(missionId, value);
  if (problem) throw new UnreadableStoredDataError(missionId, `its state in the read model (s) is not a mission: ${problem}`);
  return value as Mission;
}

/** As parseStoredMission, its UnreadableStoredDataError returned rather than thrown: for a read of many, each on its own. */
export function readStoredMission(missionId: string, json: string): Mission | UnreadableStoredDataError {
  try {
    return parseStoredMission(missionId, json);
  } catch (error) {
    if (error instanceof UnreadableStoredDataError) return error;
    throw error;
  }
}

function notAMission(missionId: string, value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'no JSON object';
  const state = value as Record<string, unknown>;
  if (state.id !== missionId) return `its id is ${JSON.stringify(state.id) ?? 'missing'}`;
  if (typeof state.status !== 'string' || !STATUSES.has(state.status)) return `its status is ${JSON.stringify(state.status) ?? 'missing'}`;
  if (typeof state.type !== 'string' || !TYPES.has(state.type)) return `its type is ${JSON.stringify(state.type) ?? 'missing'}`;
  if (!Number.isInteger(state.version)) return 'it has no version';
  return undefined;
}

/** UnreadableStoredDataError for a mission key of another Redis type than the services write. */
export function wrongTypeError(missionId: string, key: string, expected: string): UnreadableStoredDataError {
  return new UnreadableStoredDataError(missionId, `its key ${key} holds another type of value than a ${expected}`);
}

/** `read` of a mission's `key`, its WRONGTYPE refusal (a key changed by hand) turned into wrongTypeError. */
export async function namingWrongType<T>(read: Promise<T>, missionId: string, key: string, expected: string): Promise<T> {
  return read.catch((error: unknown) => {
    throw isWrongTypeError(error) ? wrongTypeError(missionId, key, expected) : error;
  });
}
