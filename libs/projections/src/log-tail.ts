import Redis from 'ioredis';
import { parseLogEntry } from '@app/event-store';
import { ProjectionBatch } from './projection';

/** Raw XREAD reply: per stream, its entries as [id, fields]. */
type XReadReply = [string, [string, string[]][]][] | null;

/**
 * Follows every log stream from a position per stream, with one XREAD over all of them: COUNT
 * entries per stream per read, blocking up to `blockMs` when there is nothing new. A stream with
 * nothing new yields no batch.
 */
export class LogTail {
  constructor(
    private readonly streams: readonly string[],
    private readonly batchSize: number,
  ) {}

  /** The next batch of each stream after its position ('' = the start); [] when nothing came within `blockMs` (0: do not block). */
  async read(connection: Redis, positions: ReadonlyMap<string, string>, blockMs: number): Promise<ProjectionBatch[]> {
    const ids = this.streams.map((stream) => positions.get(stream) || '0-0');
    const reply = (
      blockMs > 0
        ? await connection.xread('COUNT', this.batchSize, 'BLOCK', blockMs, 'STREAMS', ...this.streams, ...ids)
        : await connection.xread('COUNT', this.batchSize, 'STREAMS', ...this.streams, ...ids)
    ) as XReadReply;
    return (reply ?? [])
      .filter(([, entries]) => entries.length > 0)
      .map(([stream, entries]) => ({
        stream,
        after: positions.get(stream) ?? '',
        lastId: entries[entries.length - 1][0],
        entries: entries.length,
        events: entries.map(([, fields]) => parseLogEntry(fields)),
      }));
  }
}
