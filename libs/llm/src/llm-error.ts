import { TokenUsage } from '@app/mission';

export enum LlmErrorCode {
  Timeout = 'TIMEOUT',
  Aborted = 'ABORTED',
  ProviderError = 'PROVIDER_ERROR',
  MalformedOutput = 'MALFORMED_OUTPUT',
  RateLimited = 'RATE_LIMITED',
}

/**
 * What the provider billed for a reply that was then rejected (cut off at the token limit, filtered,
 * empty, not JSON, not the schema): it answered 200 with `usage`, so the tokens were paid for.
 */
export interface LlmBilledUsage {
  usage: TokenUsage;
  /** The model that answered, as the reply names it. */
  model: string;
  /** USD, from the client's price table; undefined when the model has no known price. */
  costUsd?: number;
}

/**
 * `retryable` tells the executor whether another attempt can help or the failure is final;
 * `retryAfterMs`, how long the provider asked to be left alone (its Retry-After), which the next
 * attempt waits at least; `billed`, the usage of a reply the provider billed but that could not
 * be used, so metrics and the failure event can still count it.
 */
export class LlmError extends Error {
  constructor(
    readonly code: LlmErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    readonly billed?: LlmBilledUsage,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}
