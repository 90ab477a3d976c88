/**
 * Runs `work` every `everyMs`, one run at a time: a run that takes longer than the period delays
 * the next instead of overlapping it. stop() waits for the run in progress, so a service stops it
 * before its Redis connection closes (in onModuleDestroy; shutdown hooks run after destroy hooks).
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly work: () => Promise<unknown>,
    /** A failed run is reported here and the next one runs as planned. */
    private readonly onError: (error: unknown) => void,
  ) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.work()).then(() => undefined, this.onError);
    }, everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
