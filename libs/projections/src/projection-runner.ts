import { setTimeout as sleep } from 'node:timers/promises';
import { KeyLayout, UnreadableLogEntry } from '@app/event-store';
import { FailureStreak } from '@app/logging';
import { disconnectNow, duplicateConnection, RedisConnection } from '@app/redis';
import { batchesPassingOver, LogTail } from './log-tail';
import { ApplyOutcome, Projection, ProjectionBatch } from './projection';
import { loadProgress, StreamProgress } from './projection-checkpoints';

export interface ProjectionRunnerOptions {
  /** Log entries per XREAD and per script call. Default 1,000. */
  batchSize?: number;
  /** How long a read waits for new events once caught up. Default 1,000 ms. */
  blockMs?: number;
  /** Stop after applying this many batches (to stop a projection mid-run in tests). */
  maxBatches?: number;
  /** After every batch, applied or found stale. */
  onBatch?: (batch: ProjectionBatch, outcome: ApplyOutcome) => void;
  /** A read or batch failed, the first time after a success or otherwise than the time before; the same failure again is silent. */
  onError?: (error: unknown) => void;
  /** An entry of an applied batch whose event cannot be read, passed over (once per entry and runner). */
  onUnreadable?: (entry: UnreadableLogEntry) => void;
  /** The first success after failures: how many there were, and for how long. */
  onRecovered?: (failures: number, forMs: number) => void;
}

const DEFAULT_BATCH = 1_000;
const DEFAULT_BLOCK_MS = 1_000;
/** Wait before reading again after a failure (Redis unreachable, a script error). */
const RETRY_MS = 1_000;

/**
 * Runs one projection over the log: reads from each log stream's checkpoint, applies each batch in
 * one script call (which also moves the checkpoint), and blocks for more once caught up. Stateless
 * between batches apart from the positions, which it reloads from Redis whenever a batch is found
 * stale or a read fails, so a restart, a second runner or a rebuild never makes it skip or repeat.
 */
export class ProjectionRunner {
  private readonly tail: LogTail;
  private readonly blockMs: number;
  private reader: RedisConnection | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private pause = new AbortController();
  private batches = 0;
  private readonly failures: FailureStreak;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
    readonly projection: Projection,
    private readonly options: ProjectionRunnerOptions = {},
  ) {
    this.tail = new LogTail(keys.logStreams, options.batchSize ?? DEFAULT_BATCH);
    this.blockMs = options.blockMs ?? DEFAULT_BLOCK_MS;
    this.failures = new FailureStreak({
      failing: (error) => options.onError?.(error),
      recovered: (failures, forMs) => options.onRecovered?.(failures, forMs),
    });
  }

  /** Batches applied by this runner so far. */
  get appliedBatches(): number {
    return this.batches;
  }

  /** Resolves when the background loop has ended (after `stop`, or `maxBatches`). */
  get finished(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Follows the log in the background on a connection of its own (its reads block). */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.pause = new AbortController();
    const reader = duplicateConnection(this.redis, { name: `projection-${this.projection.name}`, blocking: true, blockMs: this.blockMs });
    reader.on('error', () => undefined);
    this.reader = reader;
    this.loop = this.follow(reader).finally(() => this.closeReader(reader));
  }

  /**
   * Ends the loop: closing the reader aborts a blocking read, also one waiting for a reconnect; a
   * command on the shared connection is no longer awaited (a batch being applied is atomic, and
   * completes or not), as during an outage it waits for its retries to run out, a minute and more.
   */
  async stop(): Promise<void> {
    const loop = this.loop;
    this.stopping = true;
    this.pause.abort();
    if (this.reader) this.closeReader(this.reader);
    await loop;
    // A start() while this stop waited owns the new loop.
    if (this.loop === loop) this.loop = undefined;
  }

  /**
   * Applies everything in the log now, without blocking, on the command connection; resolves with
   * the log entries consumed. For rebuilds and tests.
   */
  async catchUp(onBatch?: (consumed: number) => void): Promise<number> {
    let progress = await loadProgress(this.redis, this.keys, this.projection.name);
    let consumed = 0;
    for (;;) {
      const { batches } = await this.nextBatches(this.redis, progress, 0);
      if (batches.length === 0) return consumed;
      for (const batch of batches) {
        const outcome = await this.applyBatch(batch);
        if (outcome.kind === 'stale') progress = await loadProgress(this.redis, this.keys, this.projection.name);
        else {
          progress.set(batch.stream, advancedBy(progress, batch));
          consumed += batch.entries;
          onBatch?.(consumed);
        }
      }
    }
  }

  private async follow(reader: RedisConnection): Promise<void> {
    let progress: Map<string, StreamProgress> | undefined;
    while (!this.stopping) {
      try {
        progress ??= await this.unlessStopped(loadProgress(this.redis, this.keys, this.projection.name));
        const { batches, passingOver } = await this.unlessStopped(this.nextBatches(reader, progress, this.blockMs));
        if (batches.length === 0) this.failures.succeeded();
        for (const batch of batches) {
          if (this.stopping) return;
          const outcome = await this.unlessStopped(this.applyBatch(batch));
          this.failures.succeeded();
          if (outcome.kind === 'stale') {
            progress = undefined;
            break;
          }
          progress.set(batch.stream, advancedBy(progress, batch));
          if (this.options.maxBatches !== undefined && this.batches >= this.options.maxBatches) return;
        }
        // Passing over the log blocks on nothing: wait as long as a read would have blocked.
        if (passingOver) await sleep(this.blockMs, undefined, { signal: this.pause.signal }).catch(() => undefined);
      } catch (error) {
        if (this.stopping) return;
        this.failures.failed(error);
        progress = undefined;
        await sleep(RETRY_MS, undefined, { signal: this.pause.signal }).catch(() => undefined);
      }
    }
  }

  /**
   * The next batches after `progress`: read from the log (blocking up to `blockMs`), or, when the
   * projection has no use for the log's events now (Projection.wantsEvents), batches that pass over
   * every entry appended before it was asked, none of them read.
   */
  private async nextBatches(
    connection: RedisConnection,
    progress: ReadonlyMap<string, StreamProgress>,
    blockMs: number,
  ): Promise<{ batches: ProjectionBatch[]; passingOver: boolean }> {
    // Asked twice when it says no: the first answer spares a projection that reads the log the look
    // at its heads; the second, given after the heads were read, is the one that covers them.
    if (this.projection.wantsEvents && !(await this.projection.wantsEvents(this.redis))) {
      const heads = await this.tail.heads(connection);
      if (!(await this.projection.wantsEvents(this.redis))) return { batches: batchesPassingOver(progress, heads), passingOver: true };
    }
    const positions = new Map([...progress].map(([stream, { position }]) => [stream, position]));
    return { batches: await this.tail.read(connection, positions, blockMs), passingOver: false };
  }

  /** Once per reader: a second disconnect of a closed socket leaves a timer behind. */
  private closeReader(reader: RedisConnection): void {
    if (this.reader !== reader) return;
    this.reader = undefined;
    disconnectNow(reader);
  }

  /** `work`'s outcome, or a rejection once stop() is called, whichever comes first. */
  private unlessStopped<T>(work: Promise<T>): Promise<T> {
    const { signal } = this.pause;
    return new Promise<T>((resolve, reject) => {
      const stopped = () => reject(new Error('the projection runner stopped'));
      if (signal.aborted) return stopped();
      signal.addEventListener('abort', stopped, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stopped));
    });
  }

  private async applyBatch(batch: ProjectionBatch): Promise<ApplyOutcome> {
    const outcome = await this.projection.apply(this.redis, batch);
    if (outcome.kind === 'applied') {
      this.batches++;
      // Said once, by the runner whose apply moved the checkpoint past them.
      for (const entry of batch.unreadable) this.options.onUnreadable?.(entry);
    }
    this.options.onBatch?.(batch, outcome);
    return outcome;
  }
}

/** A stream's progress once `batch` is applied. */
function advancedBy(progress: ReadonlyMap<string, StreamProgress>, batch: ProjectionBatch): StreamProgress {
  return { position: batch.lastId, consumed: (progress.get(batch.stream)?.consumed ?? 0) + batch.entries };
}
