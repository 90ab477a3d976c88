import { setTimeout as sleep } from 'node:timers/promises';
import { KeyLayout } from '@app/event-store';
import { duplicateConnection, RedisConnection } from '@app/redis';
import { LogTail } from './log-tail';
import { ApplyOutcome, Projection, ProjectionBatch } from './projection';
import { loadCheckpoints } from './projection-checkpoints';

export interface ProjectionRunnerOptions {
  /** Log entries per XREAD and per script call. Default 1,000. */
  batchSize?: number;
  /** How long a read waits for new events once caught up. Default 1,000 ms. */
  blockMs?: number;
  /** Stop after applying this many batches (to stop a projection mid-run in tests). */
  maxBatches?: number;
  /** After every batch, applied or found stale. */
  onBatch?: (batch: ProjectionBatch, outcome: ApplyOutcome) => void;
  onError?: (error: unknown) => void;
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

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: KeyLayout,
    readonly projection: Projection,
    private readonly options: ProjectionRunnerOptions = {},
  ) {
    this.tail = new LogTail(keys.logStreams, options.batchSize ?? DEFAULT_BATCH);
    this.blockMs = options.blockMs ?? DEFAULT_BLOCK_MS;
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
    const reader = duplicateConnection(this.redis, { name: `projection-${this.projection.name}`, blocking: true });
    reader.on('error', () => undefined);
    this.reader = reader;
    this.loop = this.follow(reader).finally(() => this.closeReader(reader));
  }

  /** Ends the loop: closing the reader aborts a blocking read; a batch being applied completes (it is atomic). */
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
    let positions = await loadCheckpoints(this.redis, this.keys, this.projection.name);
    let consumed = 0;
    for (;;) {
      const batches = await this.tail.read(this.redis, positions, 0);
      if (batches.length === 0) return consumed;
      for (const batch of batches) {
        const outcome = await this.applyBatch(batch);
        if (outcome.kind === 'stale') positions = await loadCheckpoints(this.redis, this.keys, this.projection.name);
        else {
          positions.set(batch.stream, batch.lastId);
          consumed += batch.entries;
          onBatch?.(consumed);
        }
      }
    }
  }

  private async follow(reader: RedisConnection): Promise<void> {
    let positions: Map<string, string> | undefined;
    while (!this.stopping) {
      try {
        positions ??= await loadCheckpoints(this.redis, this.keys, this.projection.name);
        for (const batch of await this.tail.read(reader, positions, this.blockMs)) {
          if (this.stopping) return;
          const outcome = await this.applyBatch(batch);
          if (outcome.kind === 'stale') {
            positions = undefined;
            break;
          }
          positions.set(batch.stream, batch.lastId);
          if (this.options.maxBatches !== undefined && this.batches >= this.options.maxBatches) return;
        }
      } catch (error) {
        if (this.stopping) return;
        this.options.onError?.(error);
        positions = undefined;
        await sleep(RETRY_MS, undefined, { signal: this.pause.signal }).catch(() => undefined);
      }
    }
  }

  /** Once per reader: a second disconnect of a closed socket leaves a timer behind. */
  private closeReader(reader: RedisConnection): void {
    if (this.reader !== reader) return;
    this.reader = undefined;
    reader.disconnect();
  }

  private async applyBatch(batch: ProjectionBatch): Promise<ApplyOutcome> {
    const outcome = await this.projection.apply(this.redis, batch);
    if (outcome.kind === 'applied') this.batches++;
    this.options.onBatch?.(batch, outcome);
    return outcome;
  }
}
