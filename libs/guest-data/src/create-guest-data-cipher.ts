import { RedisConnection } from '@app/redis';
import { GuestDataCipher } from './guest-data-cipher';
import { GuestDataKeys } from './guest-data-keys';
import { DataKeySettings, loadMasterKeys } from './master-key-source';
import { SubjectKeyCache } from './subject-key-cache';
import { SubjectKeyStore } from './subject-key-store';

/** The settings a service's cipher is built from: the Environment class fits as it is. */
export interface GuestDataSettings extends DataKeySettings {
  KEY_PREFIX: string;
  DATA_KEY_CACHE_TTL_MS: number;
  DATA_KEY_CACHE_SIZE: number;
}

export interface CreatedGuestDataCipher {
  cipher: GuestDataCipher;
  /** Set on the start that generated the local master key: the file, for the caller to mention once. */
  generatedKeyFile?: string;
}

/**
 * A cipher: its master keys (see loadMasterKeys), the subject-key store under KEY_PREFIX, and a
 * key cache, its own unless `sharedCache` gives one for its master keys' ids (the services of one
 * process share theirs).
 */
export function createGuestDataCipher(
  redis: RedisConnection,
  settings: GuestDataSettings,
  dataDir: string,
  sharedCache?: (masterKeyIds: readonly string[]) => SubjectKeyCache,
): CreatedGuestDataCipher {
  const { ring, generatedFile } = loadMasterKeys(settings, dataDir);
  const cache = sharedCache?.(ring.ids) ?? new SubjectKeyCache(settings.DATA_KEY_CACHE_TTL_MS, settings.DATA_KEY_CACHE_SIZE);
  const store = new SubjectKeyStore(redis, new GuestDataKeys(settings.KEY_PREFIX), ring, cache);
  return { cipher: new GuestDataCipher(store), generatedKeyFile: generatedFile };
}
