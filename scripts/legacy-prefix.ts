import { KEY_PREFIX_PATTERN } from '@app/config';
import { KeyLayout } from '@app/event-store';
import { escapeGlob, isCluster, RedisConnection, scanKeys } from '@app/redis';
import { logPartitionsKey } from '@app/runtime';

/**
 * The rule KEY_PREFIX was held to up to commit 73b24b2 (7e1966d added the closing `:`): letters,
 * digits and `: _ . -`, not empty.
 */
const LEGACY_KEY_PREFIX_PATTERN = /^[A-Za-z0-9:_.-]+$/;

/**
 * A prefix the services took before they required the closing `:` (`hotel`, `brain-prod`) and
 * refuse now: a deployment may still have its keys under one, to be moved (replay export, then
 * import under a prefix that ends with `:`) and then deleted (replay purge).
 */
export function isLegacyKeyPrefix(prefix: string): boolean {
  return LEGACY_KEY_PREFIX_PATTERN.test(prefix) && !KEY_PREFIX_PATTERN.test(prefix);
}

/**
 * The keys a deployment under the legacy prefix `prefix` wrote, and none of another's: a SCAN of
 * `<prefix>*` would also take the keys of every prefix that starts with it (`hotel` of
 * `hotel-other:`, `hotel:`, `hotel2`). Every key of KeyLayout, GuestDataKeys and WebhookKeys but
 * two follows the prefix with a hash tag, `<prefix>{…}`, and no prefix may hold a `{`; the two
 * others are fixed names. Left out: the intake's rate-limit counters (`<prefix>ratelimit:…`),
 * whose shape another prefix could take (`hotelratelimit:`) and which expire by themselves within
 * a minute of the last request (RATE_LIMIT_WINDOW_MS).
 */
export async function* legacyPrefixKeys(redis: RedisConnection, prefix: string): AsyncGenerator<string[]> {
  if (!isLegacyKeyPrefix(prefix)) throw new Error(`"${prefix}" is not a legacy key prefix`);
  yield* scanKeys(redis, `${escapeGlob(prefix)}{*`);
  const fixed = legacyPrefixFixedKeys(prefix);
  const present = await Promise.all(fixed.map((key) => redis.exists(key)));
  const found = fixed.filter((_, index) => present[index] > 0);
  if (found.length > 0) yield found;
}

/** The keys of a prefix that carry no hash tag: the retention turn and the recorded LOG_PARTITIONS. */
export function legacyPrefixFixedKeys(prefix: string): string[] {
  return [new KeyLayout(prefix).retentionTurn, logPartitionsKey(prefix)];
}

/** Whether `key` is one that a deployment under the legacy `prefix` writes (see legacyPrefixKeys). */
export function isLegacyPrefixKey(prefix: string, key: string): boolean {
  return key.startsWith(`${prefix}{`) || legacyPrefixFixedKeys(prefix).includes(key);
}

/** How many keys the deployment under the legacy `prefix` has (see legacyPrefixKeys). */
export async function countLegacyPrefixKeys(redis: RedisConnection, prefix: string): Promise<number> {
  let count = 0;
  for await (const keys of legacyPrefixKeys(redis, prefix)) count += keys.length;
  return count;
}

/** Deletes the keys of the deployment under the legacy `prefix`, and no other's (see legacyPrefixKeys); returns how many went. */
export async function deleteLegacyPrefixKeys(redis: RedisConnection, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of legacyPrefixKeys(redis, prefix)) {
    // A cluster refuses a multi-key UNLINK across slots: there each key goes on its own, to its slot's owner.
    if (!isCluster(redis)) deleted += await redis.unlink(...keys);
    else for (const count of await Promise.all(keys.map((key) => redis.unlink(key)))) deleted += count;
  }
  return deleted;
}
