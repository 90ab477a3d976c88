import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientRedisError } from './redis-reachability';

/** First and longest wait between two tries of a write while Redis refuses it (out of memory, unreachable). */
export const REDIS_RETRY_MIN_MS = 100;
export const REDIS_RETRY_MAX_MS = 2_000;

export interface UntilRedisTakesOptions {
  /** Aborted at shutdown: the refusal in hand (or the next one) is thrown instead of tried again. */
  signal: AbortSignal;
  /** Told of the first refusal before its wait: the caller's one warning, with its own names. */
  firstRefusal?: (error: unknown) => void;
}

/**
 * Runs `write` until Redis takes it, waiting 100 ms, then doubling up to 2 s, between refusals that
 * pass by themselves (isTransientRedisError); another error is thrown at once, as is a refusal once
 * `signal` is aborted. For a write whose only copy is in this process (an LLM reply the provider
 * billed): failing its handler would have the message redelivered and the paid call thrown away or
 * made again. The write must be safe to repeat: the mission appends are, as each expects the
 * version it read, so a try that took effect before its reply was lost meets a conflict instead.
 * `refusals` counts the tries Redis refused before the one it took.
 */
export async function untilRedisTakes<T>(write: () => Promise<T>, { signal, firstRefusal }: UntilRedisTakesOptions): Promise<{ value: T; refusals: number }> {
  for (let refusals = 0; ; refusals++) {
    try {
      return { value: await write(), refusals };
    } catch (error) {
      if (!isTransientRedisError(error) || signal.aborted) throw error;
      if (refusals === 0) firstRefusal?.(error);
      const waitMs = Math.min(REDIS_RETRY_MIN_MS * 2 ** refusals, REDIS_RETRY_MAX_MS);
      // An abort ends the wait early; the next try then runs once more and, refused, is thrown.
      await sleep(waitMs, undefined, { signal }).catch(() => undefined);
    }
  }
}
