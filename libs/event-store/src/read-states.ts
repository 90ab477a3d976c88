import { execAll, RedisConnection } from '@app/redis';
import { KeyLayout } from './key-layout';
import { MISSION_HASH_FIELDS } from './mission-hash-fields';

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
      (await execAll(pipeline)).forEach((value, k) => {
        if (Array.isArray(value)) values[positions[k]] = value.map((one: unknown) => (typeof one === 'string' ? one : null));
      });
    }),
  );
  return values;
}
