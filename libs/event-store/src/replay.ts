import { evolve, Mission } from '@app/mission';
import { RedisConnection } from '@app/redis';
import { KeyLayout } from './key-layout';
import { readLog } from './log-reader';
import { MISSION_HASH_FIELDS } from './mission-hash-fields';
import { readMissionFields } from './read-states';

/** Folds every log partition into every mission's state, as the read model should hold it. */
export async function replayLog(redis: RedisConnection, keys: KeyLayout, batchSize = 2_000): Promise<Map<string, Mission>> {
  const missions = new Map<string, Mission>();
  for (const partition of keys.partitions) {
    for await (const batch of readLog(redis, partition.log, batchSize)) {
      for (const event of batch.events) {
        missions.set(event.missionId, evolve(missions.get(event.missionId) ?? null, event));
      }
    }
  }
  return missions;
}

export interface ReadModelDrift {
  missionId: string;
  problem: 'missing from read model' | 'not in log' | 'differs from log';
}

/** Compares the live read model with a replay of the log; an empty list means they agree. */
export async function findReadModelDrift(redis: RedisConnection, keys: KeyLayout): Promise<ReadModelDrift[]> {
  const replayed = await replayLog(redis, keys);
  const indexed = (await Promise.all(keys.partitions.map((partition) => redis.zrange(partition.missionIndex, 0, -1)))).flat();
  const ids = [...new Set([...replayed.keys(), ...indexed])];
  const stored = await readMissionFields(redis, keys, ids, MISSION_HASH_FIELDS.state);
  const drift: ReadModelDrift[] = [];
  ids.forEach((missionId, i) => {
    const expected = replayed.get(missionId);
    const actual = stored[i];
    if (!expected) drift.push({ missionId, problem: 'not in log' });
    else if (!actual) drift.push({ missionId, problem: 'missing from read model' });
    else if (JSON.stringify(JSON.parse(actual)) !== JSON.stringify(expected)) drift.push({ missionId, problem: 'differs from log' });
  });
  return drift;
}
