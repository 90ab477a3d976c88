import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A fresh namespace per test, so suites can share one Redis (even a developer's) and clean up precisely. */
export function testKeyPrefix(name: string): string {
  return `test:${name}:${randomBytes(4).toString('hex')}:`;
}

/** Set by test/setup/global-setup.ts, which may have started a private server on a random port. */
export function redisUrl(): string {
  return process.env.REDIS_URL || 'redis://127.0.0.1:6379';
}

/** SCAN MATCH treats these as glob syntax; a prefix must match only itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** SCAN + UNLINK rather than KEYS + DEL, so cleanup never blocks a shared server. Returns how many keys went. */
export async function deleteKeysByPrefix(redis: Redis, prefix: string): Promise<number> {
  if (!prefix) throw new Error('deleteKeysByPrefix needs a non-empty prefix; refusing to delete every key');
  const pattern = `${escapeGlob(prefix)}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
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
