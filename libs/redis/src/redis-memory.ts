import { ReplyError } from 'ioredis';
import { masterNodes, RedisConnection } from './redis-connection';
import { someReplyCause } from './redis-replies';

/**
 * What an HTTP client is told while Redis refuses writes for its `maxmemory`: no internal error text
 * (Redis's "OOM command not allowed…" names a setting the client cannot change).
 */
export const REDIS_OUT_OF_MEMORY_MESSAGE = 'the store (Redis) is out of memory; retry later';

/** Longer than for an outage of the connection: room is made by an operator, not by a restart. */
export const REDIS_OUT_OF_MEMORY_RETRY_AFTER_SECONDS = 30;

/** Redis's reply to a write refused because used memory is above `maxmemory` (noeviction, or nothing left to evict). */
const OOM_REPLY = /^OOM /;

/**
 * Whether an error (or one it was caused by) is Redis refusing a write for lack of memory: the OOM
 * reply itself (a command, or a script's write), or a MULTI discarded because one of its commands
 * got it. Unlike an unreachable Redis, reads still work meanwhile.
 */
export function isRedisOutOfMemory(error: unknown): boolean {
  return someReplyCause(error, (reply) => OOM_REPLY.test(reply.message));
}

/**
 * Whether `INFO memory` says the server refuses writes now: Redis's own test, used memory less what
 * it does not count for eviction (replication and AOF buffers) above a `maxmemory` that is set.
 * Under an evicting policy that is so only while it finds nothing to evict.
 */
export function memoryFullIn(info: string): boolean {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  const maxmemory = field('maxmemory');
  return maxmemory > 0 && field('used_memory') - field('mem_not_counted_for_evict') > maxmemory;
}

/**
 * Whether Redis (any master of a cluster) refuses writes for its `maxmemory` now, read from
 * `INFO memory` (a read, which Redis serves while full); undefined when the server refuses INFO
 * (renamed or not allowed, on some managed Redis), which says nothing of its memory.
 */
export async function redisMemoryFull(connection: RedisConnection): Promise<boolean | undefined> {
  try {
    const infos = await Promise.all((await masterNodes(connection)).map((node) => node.info('memory')));
    return infos.some(memoryFullIn);
  } catch (error) {
    if (error instanceof ReplyError) return undefined;
    throw error;
  }
}

/** Where the operations guide says why the services need `noeviction`. */
const EVICTION_DOC = 'docs/operations.md, "Recommended Redis settings"';

/** Lines for a start-up check: a warning, or a note at info. */
export interface StartupLog {
  warn(line: string): void;
  info(line: string): void;
}

/**
 * Warns when Redis (any master of a cluster) may evict keys at its maxmemory: under any policy but
 * `noeviction` it deletes a stream, a mission or the log without an error, and accepted work is
 * lost silently. One `CONFIG GET` per master at start. A Redis that refuses CONFIG (managed
 * services often do) is noted at info, and the start goes on: the setting cannot be told.
 */
export async function checkEvictionPolicy(connection: RedisConnection, log: StartupLog): Promise<void> {
  let policies: string[];
  try {
    const replies = await Promise.all((await masterNodes(connection)).map((node) => node.config('GET', 'maxmemory-policy')));
    policies = replies.map((reply) => String((reply as string[])[1] ?? ''));
  } catch (error) {
    // Redis's refusal (a ReplyError) is the one outcome to go on from: an outage fails the start as any other would.
    if (!(error instanceof ReplyError && error instanceof Error)) throw error;
    log.info(`cannot read Redis's maxmemory-policy (CONFIG GET refused: ${error.message}); make sure it is noeviction (${EVICTION_DOC})`);
    return;
  }
  const evicting = [...new Set(policies.filter((policy) => policy !== 'noeviction'))];
  if (evicting.length === 0) return;
  log.warn(
    `Redis's maxmemory-policy is ${evicting.join(', ')}: at its maxmemory it deletes keys (streams, missions, the event log), ` +
      `and accepted work is lost without an error; set maxmemory-policy noeviction (${EVICTION_DOC})`,
  );
}
