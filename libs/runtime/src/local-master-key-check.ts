import { Environment } from '@app/config';
import { GuestDataKeys, localMasterKeyToGenerate, sampledMasterKeyIds } from '@app/guest-data';
import { closeConnection, createRedisConnection, readAtStart } from '@app/redis';
import { logRedisError } from './core.module';
import { MasterKeyNotSetError } from './master-key-not-set-error';
import { localDataDir } from './repo-file';

/**
 * Refuses, with MasterKeyNotSetError, a start that would generate a local master key (neither
 * DATA_KEY_SECRET nor DATA_KEY_FILE, no `.data/data-key` yet) for a key prefix that already has
 * data keys: wrapped under another master key, none of them opens with a new one. The start-up
 * check (MasterKeyGuard) refused such a start too, but only after personalDataOf had written the
 * new key, which stayed behind as the one to back up, and which the next start used.
 *
 * Run before the app is built, as personalDataOf generates the key while it is (and a refusal
 * from inside Nest's build comes with its stack and leaves the app's connection open). It reads
 * what that check reads (sampledMasterKeyIds: one key per subject-key hash, so each goes to its
 * own node of a Redis Cluster), on a connection of its own. A process configured with a key, or
 * that finds the file, does not connect: in one process the first service to start looks, and
 * the others find the key it generated. Redis lost before or during the read (the wait for it at
 * start is over by then) is a RedisUnavailableError past REDIS_STARTUP_TIMEOUT_MS (readAtStart):
 * exit 69, as when Redis is not there at all, where the client's error used to crash the start.
 */
export async function checkLocalMasterKey(env: Environment, name: string, dataDir = localDataDir()): Promise<void> {
  const localKeyFile = localMasterKeyToGenerate(env, dataDir);
  if (!localKeyFile) return;
  const redis = createRedisConnection(env, { name: `${name}-master-key-check`, log: logRedisError });
  try {
    const keys = new GuestDataKeys(env.KEY_PREFIX);
    const wrappedUnder = await readAtStart(redis, env, env.REDIS_STARTUP_TIMEOUT_MS, () => sampledMasterKeyIds(redis, keys));
    if (wrappedUnder.length > 0) throw new MasterKeyNotSetError(env.KEY_PREFIX, wrappedUnder, localKeyFile);
  } finally {
    await closeConnection(redis);
  }
}
