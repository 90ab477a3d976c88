/** What a FailureStreak reports; each is one log line of the loop's own. */
export interface FailureStreakReport {
  /** The first failure after a success (or ever), and one that fails otherwise than the one before it. */
  failing(error: unknown): void;
  /** The first success after failures: how many there were, and how long since the first. */
  recovered(failures: number, forMs: number): void;
}

/**
 * Logs a retrying loop's failures once per outage: a loop that fails every second while Redis is
 * out of memory or unreachable wrote a line with the full error each time (58 in 55 s), burying
 * what else happened. The first failure is reported with its error, the same error again is
 * counted in silence, another error is reported, and the first success says how many failed and
 * for how long.
 */
export class FailureStreak {
  private failures = 0;
  private since = 0;
  private lastError: string | undefined;

  constructor(
    private readonly report: FailureStreakReport,
    private readonly now: () => number = Date.now,
  ) {}

  failed(error: unknown): void {
    if (this.failures === 0) this.since = this.now();
    this.failures += 1;
    const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (described === this.lastError) return;
    this.lastError = described;
    this.report.failing(error);
  }

  succeeded(): void {
    if (this.failures === 0) return;
    this.report.recovered(this.failures, this.now() - this.since);
    this.failures = 0;
    this.lastError = undefined;
  }
}
