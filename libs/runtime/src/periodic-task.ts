import { RedisConnection, settlesWhileReachable } from '@app/redis';

/**
 * Runs `work` every `everyMs`, one run at a time: a tick that comes while a run is still going is
 * skipped, so a run that takes longer than the period delays the next instead of overlapping it
 * or queueing up behind it (a catch-up sweep after an outage must not leave dozens of runs waiting,
 * each to be awaited at shutdown). stop() waits for the run in progress, so a service stops it
 * before its Redis connection closes (in onModuleDestroy; shutdown hooks run after destroy hooks),
 * but only while the Redis the work waits on is reachable.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly work: () => Promise<unknown>,
    /** A failed run is reported here and the next one runs as planned. */
    private readonly onError: (error: unknown) => void,
    /**
     * The connection the work waits on, given with the work so that no stop() can forget it (a
     * stop without it waited out a run's command retries during an outage). null: the work waits
     * on no Redis, and stop() always waits for its run.
     */
    private readonly waitsOn: RedisConnection | null,
  ) {}

  /**
   * The first run comes `firstAfterMs` after the start (by default one period): a long period
   * (an hourly round) can ask for an earlier first run, so that a process restarted more often
   * than its period still runs the work.
   */
  start(everyMs: number, firstAfterMs = everyMs): void {
    const tick = () => {
      if (this.running) return;
      // From a promise: a work that throws at once is reported like one that rejects.
      this.running = Promise.resolve()
        .then(() => this.work())
        .then(() => undefined, this.onError)
        .finally(() => (this.running = undefined));
    };
    this.timer = setTimeout(() => {
      tick();
      this.timer = setInterval(tick, everyMs);
    }, firstAfterMs);
  }

  /**
   * No run after this one; waits for the run in progress, unless the connection the work waits on
   * is lost (at once or meanwhile): during an outage a run waits out its commands' retries, half a
   * minute and more, and what it leaves undone the next run (this instance's or another's) does.
   */
  async stop(): Promise<void> {
    // clearTimeout clears an interval too (Node's timers share one kind of handle).
    clearTimeout(this.timer);
    const running = this.running;
    if (!running) return;
    if (this.waitsOn) await settlesWhileReachable(this.waitsOn, running);
    else await running;
  }
}
