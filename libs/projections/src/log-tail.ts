import { RedisConnection } from '@app/redis';
import { ProjectionBatch } from './projection';
import { TailedBatch } from './tailed-batch';

/** Raw XREAD reply: per stream, its entries as [id, fields]. */
type XReadReply = [string, [string, string[]][]][] | null;

/** How long a tail over several streams waits after a read that found nothing anywhere. */
const MULTI_STREAM_POLL_MS = 100;

/**
 * Follows every log stream from a position per stream: COUNT entries per stream per read,
 * blocking up to `blockMs` when there is nothing new. A stream with nothing new yields no batch.
 * One stream is read with a blocking XREAD. Several streams (a partitioned log) live in different
 * hash slots, which one XREAD may not span on a Redis Cluster: each is read on its own without
 * blocking, and when none had anything the tail waits a moment before the caller reads again.
 */
export class LogTail {
  constructor(
    private readonly streams: readonly string[],
    private readonly batchSize: number,
  ) {}

  /** The next batch of each stream after its position ('' = the start); [] when nothing came within `blockMs` (0: do not block). */
  async read(connection: RedisConnection, positions: ReadonlyMap<string, string>, blockMs: number): Promise<ProjectionBatch[]> {
    const position = (stream: string) => positions.get(stream) || '0-0';
    let reply: NonNullable<XReadReply>;
    if (this.streams.length === 1) {
      const [stream] = this.streams;
      reply =
        ((blockMs > 0
          ? await connection.xread('COUNT', this.batchSize, 'BLOCK', blockMs, 'STREAMS', stream, position(stream))
          : await connection.xread('COUNT', this.batchSize, 'STREAMS', stream, position(stream))) as XReadReply) ?? [];
    } else {
      const replies = await Promise.all(
        this.streams.map(async (stream) => ((await connection.xread('COUNT', this.batchSize, 'STREAMS', stream, position(stream))) as XReadReply) ?? []),
      );
      reply = replies.flat();
      if (reply.every(([, entries]) => entries.length === 0) && blockMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(blockMs, MULTI_STREAM_POLL_MS)));
      }
    }
    return reply.filter(([, entries]) => entries.length > 0).map(([stream, entries]) => new TailedBatch(stream, positions.get(stream) ?? '', entries));
  }
}
