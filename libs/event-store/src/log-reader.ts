import { MissionEvent } from '@app/mission';
import { RedisConnection } from '@app/redis';
import { parseLogEntry } from './log-entry';

export interface LogBatch {
  /** Log entry id of the last event in the batch; where the next read continues. */
  lastId: string;
  events: MissionEvent[];
}

/** Reads the whole log in order, in batches of `batchSize` (one XRANGE each), in constant memory. */
export async function* readLog(redis: RedisConnection, log: string, batchSize = 2_000, from = '-'): AsyncGenerator<LogBatch> {
  let start = from;
  for (;;) {
    const entries = (await redis.xrange(log, start, '+', 'COUNT', batchSize)) as [string, string[]][];
    if (entries.length === 0) return;
    const lastId = entries[entries.length - 1][0];
    yield { lastId, events: entries.map(([logId, fields]) => parseLogEntry(fields, logId)) };
    if (entries.length < batchSize) return;
    start = `(${lastId}`;
  }
}
