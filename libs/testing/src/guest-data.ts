import { GuestDataCipher, GuestDataKeys, MasterKeyRing, MissionPersonalData, SubjectKeyCache, SubjectKeyStore } from '@app/guest-data';
import { RedisConnection } from '@app/redis';

/** The master key of tests that build services by hand (the in-process system passes it as DATA_KEY_SECRET). */
export const TEST_DATA_KEY_SECRET = 'test-master-key-for-guest-data-0123456789';

/** A service's MissionPersonalData under the test's key prefix, as CoreModule builds it. */
export function testPersonalData(redis: RedisConnection, prefix: string): MissionPersonalData {
  const store = new SubjectKeyStore(redis, new GuestDataKeys(prefix), MasterKeyRing.fromSecrets(TEST_DATA_KEY_SECRET), new SubjectKeyCache(30_000, 1_000));
  return new MissionPersonalData(new GuestDataCipher(store));
}
