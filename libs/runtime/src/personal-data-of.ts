import { Environment } from '@app/config';
import { MissionStore } from '@app/event-store';
import { createGuestDataCipher, MissionPersonalData, SubjectKeyCache } from '@app/guest-data';
import { RedisConnection } from '@app/redis';
import { keyLayoutOf } from './key-layout-of';
import { localDataDir } from './repo-file';

/** The key caches of this process, one per Redis deployment, key prefix, master keys and cache setting. */
const processKeyCaches = new Map<string, SubjectKeyCache>();

/**
 * This process's cache of unwrapped data keys for the subject keys of `env`: shared by every
 * service the process runs (`npm start`'s one process), so an erasure by its intake evicts the key
 * for its executor and evaluator at once, and the key the intake made is the evaluator's without a
 * read. Keyed by the Redis, the prefix and the master keys, so a key is never lent to another
 * deployment, nor to a process that could not unwrap it itself.
 */
function processKeyCache(env: Environment, masterKeyIds: readonly string[]): SubjectKeyCache {
  const scope = [env.REDIS_CLUSTER_NODES ?? env.REDIS_URL, env.KEY_PREFIX, ...masterKeyIds, env.DATA_KEY_CACHE_TTL_MS, env.DATA_KEY_CACHE_SIZE].join('\0');
  let cache = processKeyCaches.get(scope);
  if (!cache) {
    cache = new SubjectKeyCache(env.DATA_KEY_CACHE_TTL_MS, env.DATA_KEY_CACHE_SIZE);
    processKeyCaches.set(scope, cache);
  }
  return cache;
}

/**
 * A service's MissionPersonalData: the master keys of the configuration (or, in a local run, the
 * key generated into `.data/data-key` beside the local operator key), the subject keys under
 * KEY_PREFIX, this process's key cache, and the missions' erased subjects from the read model.
 * The start that generates the local key says so once, as the intake does of the operator key it
 * generates: that file is needed to read any guest's data, and went unmentioned. A service looks
 * at the stored data keys before it is built (checkLocalMasterKey), so the key is generated only
 * for a key prefix that has none.
 */
export function personalDataOf(redis: RedisConnection, env: Environment, dataDir = localDataDir()): MissionPersonalData {
  const missions = new MissionStore(redis, keyLayoutOf(env));
  const { cipher, generatedKeyFile } = createGuestDataCipher(redis, env, dataDir, (masterKeyIds) => processKeyCache(env, masterKeyIds));
  // Straight to the terminal, once, not into the log pipeline.
  if (generatedKeyFile) {
    process.stderr.write(
      `guest data: no DATA_KEY_SECRET or DATA_KEY_FILE; generated a local master key (kept in ${generatedKeyFile}). ` +
        "Back it up with the Redis data: without it no guest's data can be read.\n",
    );
  }
  return new MissionPersonalData(cipher, async (missionId) => (await missions.load(missionId))?.erasedSubjects ?? []);
}
