import { Environment } from '@app/config';
import { Backoff } from '@app/mission';

/** The backoff of a failure recorded now, as RETRY_BASE_MS and RETRY_MAX_MS configure it. */
export function retryBackoff(env: Pick<Environment, 'RETRY_BASE_MS' | 'RETRY_MAX_MS'>, now = new Date()): Backoff {
  return { baseMs: env.RETRY_BASE_MS, maxMs: env.RETRY_MAX_MS, now };
}
