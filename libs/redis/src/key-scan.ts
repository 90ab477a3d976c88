import { isCluster, masterNodes, RedisConnection } from './redis-connection';

/** SCAN MATCH treats these as glob syntax; a prefix must match only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * Every key matching `pattern`, a batch at a time. One SCAN call returns only part of the keyspace
 * (however large COUNT is), so the cursor is followed until it comes back to 0; on a cluster each
 * master is scanned that way, since a SCAN sent through a Cluster client reaches one node only.
 */
export async function* scanKeys(redis: RedisConnection, pattern: string, count = 1000): AsyncGenerator<string[]> {
  for (const node of await masterNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/** How many keys start with `prefix` (a key deleted or added meanwhile may or may not count). */
export async function countKeysByPrefix(redis: RedisConnection, prefix: string): Promise<number> {
  let count = 0;
  for await (const keys of scanKeys(redis, `${escapeGlob(requirePrefix(prefix))}*`)) count += keys.length;
  return count;
}

/**
 * SCAN + UNLINK rather than KEYS + DEL, so it never blocks a shared server; only keys that start
 * with `prefix` go. Returns how many keys went.
 */
export async function deleteKeysByPrefix(redis: RedisConnection, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of scanKeys(redis, `${escapeGlob(requirePrefix(prefix))}*`)) deleted += await unlink(redis, keys);
  return deleted;
}

function requirePrefix(prefix: string): string {
  if (!prefix) throw new Error('a non-empty prefix is required; refusing to touch every key');
  return prefix;
}

/**
 * A cluster refuses a multi-key UNLINK across slots, so there each key goes on its own; the Cluster
 * client routes each to its slot's current owner, which also covers a slot moving mid-scan.
 */
async function unlink(redis: RedisConnection, keys: string[]): Promise<number> {
  if (!isCluster(redis)) return redis.unlink(...keys);
  const counts = await Promise.all(keys.map((key) => redis.unlink(key)));
  return counts.reduce((sum, count) => sum + count, 0);
}
