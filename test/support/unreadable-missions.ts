import { v7 as uuidv7 } from 'uuid';
import { KeyLayout, PartitionKeys } from '@app/event-store';
import { RedisConnection } from '@app/redis';

/** The state the missions of unreadableMissionsIn are given: what `replay verify` reports as `s is not JSON`. */
export const NOT_JSON = 'not json';

/** `count` new mission ids (UUIDv7, in order) that fall in log partition `partition`. */
export function missionIdsIn(keys: KeyLayout, partition: number, count: number): string[] {
  const ids: string[] = [];
  while (ids.length < count) {
    const id = uuidv7();
    if (keys.partitionOf(id) === partition) ids.push(id);
  }
  return ids;
}

/**
 * `count` missions of log partition `partition` whose state was changed past reading (their hash's
 * `s` not JSON; nothing else of them exists), each entered in the sets `setsOf` names, the `i`th at
 * score `i`: due before any mission of the clock's time. Resolves with their ids, in that order;
 * the caller deletes their keys (`keys.mission(id)`) and set entries when done.
 */
export async function unreadableMissionsIn(
  redis: RedisConnection,
  keys: KeyLayout,
  partition: number,
  count: number,
  setsOf: (partition: PartitionKeys) => string[],
): Promise<string[]> {
  const ids = missionIdsIn(keys, partition, count);
  const sets = setsOf(keys.partitions[partition]);
  const writes = redis.pipeline();
  ids.forEach((id, score) => {
    writes.hset(keys.mission(id), 's', NOT_JSON);
    for (const set of sets) writes.zadd(set, score, id);
  });
  await writes.exec();
  return ids;
}
