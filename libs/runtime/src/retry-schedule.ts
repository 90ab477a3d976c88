import { retryDelayMs } from '@app/mission';

/** How a failed attempt is followed up; from WEBHOOK_BACKOFF_MS, WEBHOOK_BACKOFF_MAX_MS and WEBHOOK_RETRY_PERIOD_SECONDS. */
export interface RetryPolicy {
  /** Delay before the first retry; it doubles with every further attempt. */
  backoffMs: number;
  /** The delay never grows beyond this. */
  backoffMaxMs: number;
  /** Retries stop this long after the first attempt: the delivery is then dead. */
  retryPeriodMs: number;
}

/** What one attempt came to: an HTTP status, or no response at all (refused, reset, timed out). */
export type AttemptResult = { status: number } | { error: string; retryable: boolean };

export type NextStep = { kind: 'delivered' } | { kind: 'retry'; at: number } | { kind: 'dead' };

/**
 * A 2xx acknowledges. Timeouts, connection failures, 429 and 5xx are worth trying again; any other
 * answer (a 4xx, or a redirect, which is never followed) will not change by itself.
 */
export function isRetryable(result: AttemptResult): boolean {
  if ('error' in result) return result.retryable;
  return result.status === 429 || result.status >= 500;
}

/**
 * The step after attempt number `attempts` (1-based), which ended at `now`: the next attempt after
 * the same exponential backoff with equal jitter as a mission's retries (`retryDelayMs`; the jitter
 * comes from `jitterKey` and the attempt, so deliveries that failed together spread out), or dead
 * once it would fall after the retry period counted from the first attempt.
 */
export function nextStep(result: AttemptResult, attempts: number, firstAttemptAt: number, now: number, policy: RetryPolicy, jitterKey: string): NextStep {
  if (!('error' in result) && result.status >= 200 && result.status < 300) return { kind: 'delivered' };
  if (!isRetryable(result)) return { kind: 'dead' };
  const at = now + retryDelayMs({ baseMs: policy.backoffMs, maxMs: policy.backoffMaxMs }, Math.min(attempts, 53), jitterKey, attempts);
  return at - firstAttemptAt > policy.retryPeriodMs ? { kind: 'dead' } : { kind: 'retry', at };
}
