export enum LlmErrorCode {
  Timeout = 'TIMEOUT',
  Aborted = 'ABORTED',
  ProviderError = 'PROVIDER_ERROR',
  MalformedOutput = 'MALFORMED_OUTPUT',
  RateLimited = 'RATE_LIMITED',
}

/**
 * `retryable` tells the executor whether another attempt can help or the failure is final;
 * `retryAfterMs`, how long the provider asked to be left alone (its Retry-After), which the next
 * attempt waits at least.
 */
export class LlmError extends Error {
  constructor(
    readonly code: LlmErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}
