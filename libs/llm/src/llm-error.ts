export enum LlmErrorCode {
  Timeout = 'TIMEOUT',
  Aborted = 'ABORTED',
  ProviderError = 'PROVIDER_ERROR',
  MalformedOutput = 'MALFORMED_OUTPUT',
  RateLimited = 'RATE_LIMITED',
}

/** `retryable` tells the executor whether another attempt can help or the failure is final. */
export class LlmError extends Error {
  constructor(
    readonly code: LlmErrorCode,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}
