import { RedisConnection } from '@app/redis';
import { ProjectionBatch } from './projection';
import { StreamProgress } from './projection-checkpoints';
import { TailedBatch } from './tailed-batch';

/** How far a log stream goes: its newest entry and its length, read in one step. */
export interface StreamHead {
  readonly lastId: string;
  readonly length: number;
}

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

  /**
   * Each stream's newest entry id and length, in one MULTI per stream (its own hash slot), so the
   * length counts exactly the entries up to that id. A stream with no entries is left out.
   */
  async heads(connection: RedisConnection): Promise<Map<string, StreamHead>> {
    const heads = await Promise.all(
      this.streams.map(async (stream) => {
        const replies = (await connection.multi().xlen(stream).xrevrange(stream, '+', '-', 'COUNT', 1).exec()) ?? [];
        for (const [error] of replies) if (error) throw error;
        const [[, length], [, newest]] = replies as [[null, number], [null, [string, string[]][]]];
        return newest.length > 0 ? ([stream, { lastId: newest[0][0], length }] as const) : undefined;
      }),
    );
    return new Map(heads.filter((head) => head !== undefined));
  }
}

/**
 * Batches with no events that move each stream's checkpoint to its head and count the entries
 * passed over: for a projection that has no use for them (Projection.wantsEvents).
 */
export function batchesPassingOver(progress: ReadonlyMap<string, StreamProgress>, heads: ReadonlyMap<string, StreamHead>): ProjectionBatch[] {
  return [...heads].flatMap(([stream, head]) => {
    const { position, consumed } = progress.get(stream) ?? { position: '', consumed: 0 };
    // The log is never trimmed: entries beyond those consumed are the ones after the checkpoint.
    if (head.length <= consumed || head.lastId === position) return [];
    return [{ stream, after: position, lastId: head.lastId, entries: head.length - consumed, events: [], unreadable: [] }];
  });
}
