import { Mission } from '@app/mission';
import { execAllKeepingWrongType, RedisConnection, WRONG_TYPE_REPLY } from '@app/redis';
import { KeyLayout } from './key-layout';
import { MISSION_HASH_FIELDS } from './mission-hash-fields';
import { readStoredMission, wrongTypeError } from './stored-mission';
import { UnreadableStoredDataError } from './unreadable-stored-data-error';

/** The mission hash fields read for many missions at once. */
type ReadableField =
  typeof MISSION_HASH_FIELDS.state | typeof MISSION_HASH_FIELDS.status | typeof MISSION_HASH_FIELDS.traceParent | typeof MISSION_HASH_FIELDS.deadLetterReason;

/**
 * Reads one field of many missions' hashes: one pipeline per log partition, because a Redis
 * Cluster pipeline may only touch one node. Returns the values in the order of `ids`.
 */
export async function readMissionFields(redis: RedisConnection, keys: KeyLayout, ids: readonly string[], field: ReadableField): Promise<(string | null)[]> {
  return (await readMissionFieldSets(redis, keys, ids, [field])).map(([value]) => value);
}

/**
 * Reads `fields` of many missions' hashes (an HMGET each), pipelined as readMissionFields does.
 * Returns, in the order of `ids`, each mission's values in the order of `fields`.
 */
export async function readMissionFieldSets(
  redis: RedisConnection,
  keys: KeyLayout,
  ids: readonly string[],
  fields: readonly ReadableField[],
): Promise<(string | null)[][]> {
  const values = ids.map(() => fields.map((): string | null => null));
  await Promise.all(
    [...keys.groupByPartition(ids)].map(async ([partition, positions]) => {
      const pipeline = redis.pipeline();
      for (const i of positions) pipeline.hmget(keys.partitions[partition].mission(ids[i]), ...fields);
      // A key of another type reads as no hash here; readMissionStates names it.
      (await execAllKeepingWrongType(pipeline)).forEach((value, k) => {
        if (Array.isArray(value)) values[positions[k]] = value.map((one: unknown) => (typeof one === 'string' ? one : null));
      });
    }),
  );
  return values;
}

/** A mission's state as a list reads it: the mission, null when it has none, or why it cannot be read. */
export type StoredMissionRead = Mission | null | UnreadableStoredDataError;

/**
 * The states of many missions (`s`), pipelined as readMissionFields reads them, each parsed on its
 * own: one that is no mission, or whose key is no hash, is its UnreadableStoredDataError in its
 * place, so that one record changed by hand does not fail a whole list.
 */
export async function readMissionStates(redis: RedisConnection, keys: KeyLayout, ids: readonly string[]): Promise<StoredMissionRead[]> {
  const states: StoredMissionRead[] = ids.map(() => null);
  await Promise.all(
    [...keys.groupByPartition(ids)].map(async ([partition, positions]) => {
      const pipeline = redis.pipeline();
      for (const i of positions) pipeline.hget(keys.partitions[partition].mission(ids[i]), MISSION_HASH_FIELDS.state);
      (await execAllKeepingWrongType(pipeline)).forEach((value, k) => {
        const id = ids[positions[k]];
        if (value === WRONG_TYPE_REPLY) states[positions[k]] = wrongTypeError(id, keys.partitions[partition].mission(id), 'hash');
        else if (typeof value === 'string') states[positions[k]] = readStoredMission(id, value);
      });
    }),
  );
  return states;
}
