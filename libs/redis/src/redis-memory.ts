import { ReplyError } from 'ioredis';

/**
 * What an HTTP client is told while Redis refuses writes for its `maxmemory`: no internal error text
 * (Redis's "OOM command not allowed…" names a setting the client cannot change).
 */
export const REDIS_OUT_OF_MEMORY_MESSAGE = 'the store (Redis) is out of memory; retry later';

/** Longer than for an outage of the connection: room is made by an operator, not by a restart. */
export const REDIS_OUT_OF_MEMORY_RETRY_AFTER_SECONDS = 30;

/** Redis's reply to a write refused because used memory is above `maxmemory` (noeviction, or nothing left to evict). */
const OOM_REPLY = /^OOM /;
/** A MULTI whose queued commands were refused: ioredis keeps the refusals in `previousErrors`. */
const EXEC_ABORT_REPLY = /^EXECABORT /;

/**
 * Whether an error (or one it was caused by) is Redis refusing a write for lack of memory: the OOM
 * reply itself (a command, or a script's write), or a MULTI discarded because one of its commands
 * got it. Unlike an unreachable Redis, reads still work meanwhile.
 */
export function isRedisOutOfMemory(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (!(cause instanceof ReplyError)) continue;
    if (OOM_REPLY.test(cause.message)) return true;
    const previous = (cause as { previousErrors?: unknown }).previousErrors;
    if (EXEC_ABORT_REPLY.test(cause.message) && Array.isArray(previous) && previous.some(isRedisOutOfMemory)) return true;
  }
  return false;
}
