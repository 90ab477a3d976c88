import { performance } from 'node:perf_hooks';
import { KeyLayout, UnreadableLogEntry } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import { Projection } from './projection';
import { resetProjection } from './projection-checkpoints';
import { ProjectionRunner } from './projection-runner';

export interface RebuildProjectionOptions {
  /** Log entries per XREAD and per script call. Default 1,000. */
  batchSize?: number;
  /** After each batch: log entries consumed so far and the log's length when the rebuild began. */
  onProgress?: (done: number, total: number) => void;
  /** Each log entry whose event cannot be read, passed over (see ProjectionBatch.unreadable). */
  onUnreadable?: (entry: UnreadableLogEntry) => void;
}

export interface RebuildProjectionResult {
  projection: string;
  events: number;
  ms: number;
  eventsPerSecond: number;
}

/**
 * Deletes the projection's read model and checkpoint, then applies the whole log again. A runner
 * that is following the log meanwhile (the intake's) finds its next batch stale, reloads the
 * checkpoint and carries on from wherever the rebuild got to, so nothing is applied twice; until
 * the rebuild is through, the report shows only the part of the log applied so far.
 */
export async function rebuildProjection(
  redis: RedisConnection,
  keys: KeyLayout,
  projection: Projection,
  options: RebuildProjectionOptions = {},
): Promise<RebuildProjectionResult> {
  const started = performance.now();
  const lengths = await Promise.all(keys.logStreams.map((stream) => redis.xlen(stream)));
  const total = lengths.reduce((sum, length) => sum + length, 0);
  await resetProjection(redis, keys, projection);
  const runner = new ProjectionRunner(redis, keys, projection, { batchSize: options.batchSize, onUnreadable: options.onUnreadable });
  const events = await runner.catchUp((done) => options.onProgress?.(done, Math.max(total, done)));
  const ms = performance.now() - started;
  return { projection: projection.name, events, ms: Math.round(ms), eventsPerSecond: ms > 0 ? Math.round((events / ms) * 1000) : 0 };
}
