import { KeyLayout, MISSION_HASH_FIELDS } from '@app/event-store';
import { GuestDataCipher, GuestDataKeys, MasterKeyRing, MissionPersonalData, SubjectKeyCache, SubjectKeyStore } from '@app/guest-data';
import { Mission } from '@app/mission';
import { RedisConnection } from '@app/redis';

/** The master key of tests that build services by hand (the in-process system passes it as DATA_KEY_SECRET). */
export const TEST_DATA_KEY_SECRET = 'test-master-key-for-guest-data-0123456789';

/** A service's MissionPersonalData under the test's key prefix, as CoreModule builds it. */
export function testPersonalData(redis: RedisConnection, prefix: string): MissionPersonalData {
  const store = new SubjectKeyStore(redis, new GuestDataKeys(prefix), MasterKeyRing.fromSecrets(TEST_DATA_KEY_SECRET), new SubjectKeyCache(30_000, 1_000));
  return new MissionPersonalData(new GuestDataCipher(store));
}

/** A sealed token with one character of its ciphertext changed: it fails its authentication check, as data altered where it is stored does. */
export function alteredToken(token: string): string {
  return token.slice(0, -10) + (token.at(-10) === 'A' ? 'B' : 'A') + token.slice(-9);
}

/**
 * Alters the sealed description in the mission's stored state (its hash), as someone with write
 * access to Redis could. Gives what puts the description back, for a test whose system `replay
 * verify` checks later: in the state as it is then, as a command taken since (a cancel) carried
 * the altered description on into the state it wrote.
 */
export async function alterStoredDescription(redis: RedisConnection, keys: KeyLayout, missionId: string): Promise<() => Promise<void>> {
  const hash = keys.mission(missionId);
  const state = (await redis.hget(hash, MISSION_HASH_FIELDS.state)) ?? '';
  const token = (JSON.parse(state) as Mission).description;
  const altered = alteredToken(token);
  await redis.hset(hash, MISSION_HASH_FIELDS.state, state.replace(token, altered));
  return async () => {
    const now = (await redis.hget(hash, MISSION_HASH_FIELDS.state)) ?? '';
    await redis.hset(hash, MISSION_HASH_FIELDS.state, now.replace(altered, token));
  };
}
