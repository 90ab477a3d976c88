import { ThrottlerStorage } from '@nestjs/throttler';
import { RATE_LIMIT_WINDOW_MS } from './throttler-options';

/** Addresses remembered as blocked; past this, the expired ones go, then the oldest. */
const MAX_REMEMBERED = 10_000;

/**
 * Counts failed and absent authentications per client address in the shared throttler storage
 * (so every intake instance sees one budget), and blocks an address that used up its budget
 * until the window ends. A blocked address's requests without a valid key are refused; one with a
 * valid key passes, so that a shared address cannot lock every key out. That a right guess shows
 * by its answer is safe: a secret of MIN_SECRET_LENGTH characters is not guessed at this rate.
 * Valid requests must not pay a Redis round trip for this, so the blocks this instance has seen
 * are also kept in memory; another instance learns of a block with its first failure in it.
 */
export class AuthFailureThrottle {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly storage: ThrottlerStorage,
    private readonly limitPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whole seconds until the address may try again, as far as this instance knows; 0 when not blocked. */
  retryAfter(address: string): number {
    const until = this.blockedUntil.get(address);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return Math.ceil(left / 1000);
    this.blockedUntil.delete(address);
    return 0;
  }

  /** Counts one failure; the seconds to wait when the address is now over its budget, else 0. */
  async fail(address: string): Promise<number> {
    const record = await this.storage.increment(`ip:${address}`, RATE_LIMIT_WINDOW_MS, this.limitPerMinute, 0, 'auth');
    if (!record.isBlocked) return 0;
    this.remember(address, this.now() + record.timeToBlockExpire * 1000);
    return record.timeToBlockExpire;
  }

  private remember(address: string, until: number): void {
    if (this.blockedUntil.size >= MAX_REMEMBERED) {
      const now = this.now();
      for (const [known, knownUntil] of this.blockedUntil) if (knownUntil <= now) this.blockedUntil.delete(known);
      const oldest = this.blockedUntil.keys().next();
      if (this.blockedUntil.size >= MAX_REMEMBERED && !oldest.done) this.blockedUntil.delete(oldest.value);
    }
    this.blockedUntil.delete(address);
    this.blockedUntil.set(address, until);
  }
}
