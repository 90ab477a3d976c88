import { randomBytes } from 'node:crypto';
import { createRedisConnection, isCluster, masterNodes, RedisConnection, RedisTarget } from '@app/redis';

/** A fresh namespace per test, so suites can share one Redis (even a developer's) and clean up precisely. */
export function testKeyPrefix(name: string): string {
  return `test:${name}:${randomBytes(4).toString('hex')}:`;
}

/** Set by test/setup/global-setup.ts, which may have started a private server on a random port. */
export function redisUrl(): string {
  return process.env.REDIS_URL || 'redis://127.0.0.1:6379';
}

/**
 * The Redis of this run as Environment variables: REDIS_CLUSTER_NODES is present only when
 * test/setup/cluster-global-setup.ts started a cluster. Spread it into a loadEnvironment() source.
 */
export function redisTarget(): RedisTarget {
  const clusterNodes = process.env.REDIS_CLUSTER_NODES?.trim();
  return clusterNodes ? { REDIS_URL: redisUrl(), REDIS_CLUSTER_NODES: clusterNodes } : { REDIS_URL: redisUrl() };
}

/** A client for this run's Redis: a Cluster client under `npm run test:cluster`, else one for redisUrl(). */
export function testRedisConnection(name = 'test'): RedisConnection {
  return createRedisConnection(redisTarget(), { name });
}

/** SCAN MATCH treats these as glob syntax; a prefix must match only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * SCAN + UNLINK rather than KEYS + DEL, so cleanup never blocks a shared server. On a cluster every
 * master is scanned. Returns how many keys went.
 */
export async function deleteKeysByPrefix(redis: RedisConnection, prefix: string): Promise<number> {
  if (!prefix) throw new Error('deleteKeysByPrefix needs a non-empty prefix; refusing to delete every key');
  const pattern = `${escapeGlob(prefix)}*`;
  let deleted = 0;
  for (const node of await masterNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await unlink(redis, keys);
    } while (cursor !== '0');
  }
  return deleted;
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

export interface WaitForOptions {
  timeoutMs: number;
  /** Default 25 ms. */
  intervalMs?: number;
  /** Named in the timeout error, e.g. "mission m-1 to be completed". */
  what: string;
}

/**
 * For eventually-consistent outcomes (consumers, projections): resolves with the first truthy value.
 * A probe that throws is treated like a miss, so a not-yet-created key or stream doesn't end the wait.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, opts: WaitForOptions): Promise<T> {
  const interval = opts.intervalMs ?? 25;
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown = undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, remaining)));
  }
  throw new Error(`Timed out after ${opts.timeoutMs} ms waiting for ${opts.what}; last value seen: ${describe(last)}`);
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
