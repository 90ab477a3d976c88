import { dirname, join } from 'node:path';
import { Environment } from '@app/config';
import { createGuestDataCipher, MissionPersonalData } from '@app/guest-data';
import { RedisConnection } from '@app/redis';
import { repoFile } from './repo-file';

/**
 * A service's MissionPersonalData: the master keys of the configuration (or, in a local run, the
 * key generated into `.data/data-key` beside the local operator key), the subject keys under
 * KEY_PREFIX, and this process's key cache.
 */
export function personalDataOf(redis: RedisConnection, env: Environment): MissionPersonalData {
  return new MissionPersonalData(createGuestDataCipher(redis, env, join(dirname(repoFile('package.json')), '.data')).cipher);
}
