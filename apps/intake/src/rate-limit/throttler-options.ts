import { ThrottlerModuleOptions, ThrottlerStorage } from '@nestjs/throttler';

export const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * Options for `ThrottlerModule.forRootAsync`: `limitPerMinute` requests per caller per fixed
 * minute, then 429 until that minute is over. blockDuration is 0 so that a caller overshooting
 * late in a window is not shut out for a further full minute, and Retry-After is the window's end.
 * The throttler keeps the name "default" because ThrottlerGuard suffixes any other name onto its
 * headers (`Retry-After-api`), which clients would not recognise.
 */
export function throttlerOptions(limitPerMinute: number, storage: ThrottlerStorage): ThrottlerModuleOptions {
  if (!Number.isInteger(limitPerMinute) || limitPerMinute < 1) {
    throw new Error(`the rate limit must be a positive whole number of requests per minute, got ${limitPerMinute}`);
  }
  return {
    throttlers: [{ name: 'default', ttl: RATE_LIMIT_WINDOW_MS, limit: limitPerMinute, blockDuration: 0 }],
    storage,
    errorMessage: `rate limit exceeded: at most ${limitPerMinute} requests per minute per API key`,
  };
}
