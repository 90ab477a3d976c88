import { LogTail } from '@app/projections';
import { disconnectNow, duplicateConnection, RedisConnection } from '@app/redis';

/** How long the tail's read blocks (one partition) or waits between polls (several) once caught up. */
const BLOCK_MS = 1_000;
/** Wait before reading again after a failure (Redis unreachable). */
const RETRY_MS = 1_000;

/** The id of the last entry of each stream now ('0-0' for an empty one). */
export async function lastEntryIds(redis: RedisConnection, streams: readonly string[]): Promise<string[]> {
  return Promise.all(
    streams.map(async (stream) => {
      const [last] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
      return last?.[0] ?? '0-0';
    }),
  );
}

/**
 * One tail of the log per intake process, for all its live-stream clients: it only tells them that
 * the log grew, and each client then reads from its own position. So a thousand clients cost one
 * blocking read, and a client that resumes from an old position reads its way up with the same code
 * that follows new events. Runs while anyone listens.
 */
export class LogWakeup {
  private readonly listeners = new Set<() => void>();
  private reader: RedisConnection | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnection,
    private readonly streams: readonly string[],
  ) {}

  /** Calls `listener` after new entries were appended; returns the way to stop listening. */
  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.loop) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) void this.stop();
    };
  }

  async stop(): Promise<void> {
    const loop = this.loop;
    const reader = this.reader;
    this.loop = undefined;
    this.reader = undefined;
    // Closing the connection aborts a blocking read, also one waiting for a reconnect.
    if (reader) disconnectNow(reader);
    await loop;
  }

  private start(): void {
    const reader = duplicateConnection(this.redis, { name: 'intake-live-stream', blocking: true, blockMs: BLOCK_MS });
    reader.on('error', () => undefined);
    this.reader = reader;
    this.loop = this.follow(reader);
  }

  private async follow(reader: RedisConnection): Promise<void> {
    const tail = new LogTail(this.streams, 100);
    let positions: Map<string, string> | undefined;
    while (this.reader === reader) {
      try {
        positions ??= new Map((await lastEntryIds(reader, this.streams)).map((id, index) => [this.streams[index], id]));
        const batches = await tail.read(reader, positions, BLOCK_MS);
        for (const batch of batches) positions.set(batch.stream, batch.lastId);
        if (batches.length > 0) for (const listener of [...this.listeners]) listener();
      } catch {
        if (this.reader !== reader) return;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }
}
