import { MISSION_HASH_FIELDS, PartitionKeys } from '@app/event-store';
import { execAllKeepingWrongType, RedisConnection } from '@app/redis';
import { WATCH_ATTEMPTS } from './watch-attempts';

/** Mission ids (and their `st`) read per round trip. */
const RECOUNT_BATCH = 5_000;

export interface RecountResult {
  /** False when appends kept changing the counters while they were counted; they were then left as they were. */
  recounted: boolean;
  counts: Record<string, number>;
}

/**
 * Sets the status counters hash to the number of missions in each `st`, counted over every mission
 * in the index. Optimistic: WATCHes the counters and the index on a connection of its own, so an
 * append that lands while counting (it changes both atomically with `st`) makes the write fail,
 * and the count starts over.
 */
export async function recountStatuses(redis: RedisConnection, keys: PartitionKeys): Promise<RecountResult> {
  const connection = redis.duplicate();
  connection.on('error', () => undefined);
  try {
    let counts: Record<string, number> = {};
    for (let attempt = 0; attempt < WATCH_ATTEMPTS; attempt++) {
      await connection.watch(keys.statusCounts, keys.missionIndex);
      counts = {};
      for (let start = 0; ; start += RECOUNT_BATCH) {
        const ids = await connection.zrange(keys.missionIndex, start, start + RECOUNT_BATCH - 1);
        if (ids.length > 0) {
          const pipeline = connection.pipeline();
          for (const id of ids) pipeline.hget(keys.mission(id), MISSION_HASH_FIELDS.status);
          // A hash of another type (changed by hand) has no status to count: verify and rebuild name its key.
          for (const status of await execAllKeepingWrongType(pipeline)) {
            if (typeof status === 'string' && status) counts[status] = (counts[status] ?? 0) + 1;
          }
        }
        if (ids.length < RECOUNT_BATCH) break;
      }
      const multi = connection.multi();
      multi.del(keys.statusCounts);
      if (Object.keys(counts).length > 0) multi.hset(keys.statusCounts, counts);
      if (await multi.exec()) return { recounted: true, counts };
    }
    await connection.unwatch();
    return { recounted: false, counts };
  } finally {
    await connection.quit().catch(() => connection.disconnect());
  }
}
