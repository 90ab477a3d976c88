import { execAll, RedisConnection } from '@app/redis';
import { KeyLayout } from './key-layout';
import { MISSION_HASH_FIELDS } from './mission-hash-fields';

/**
 * Reads one field of many missions' hashes: one pipeline per log partition, because a Redis
 * Cluster pipeline may only touch one node. Returns the values in the order of `ids`.
 */
export async function readMissionFields(
  redis: RedisConnection,
  keys: KeyLayout,
  ids: readonly string[],
  field: typeof MISSION_HASH_FIELDS.state | typeof MISSION_HASH_FIELDS.status | typeof MISSION_HASH_FIELDS.traceParent,
): Promise<(string | null)[]> {
  const values = new Array<string | null>(ids.length).fill(null);
  await Promise.all(
    [...keys.groupByPartition(ids)].map(async ([partition, positions]) => {
      const pipeline = redis.pipeline();
      for (const i of positions) pipeline.hget(keys.partitions[partition].mission(ids[i]), field);
      (await execAll(pipeline)).forEach((value, k) => {
        values[positions[k]] = typeof value === 'string' ? value : null;
      });
    }),
  );
  return values;
}
