import { KeyLayout } from '@app/event-store';
import { execAll, RedisConnection } from '@app/redis';
import { Projection } from './projection';

/**
 * Hash of a projection's positions: field `<log stream key>` holds the id of the last entry applied
 * from that stream, field `<log stream key>|entries` how many of its entries were consumed.
 */
export function projectionCheckpointKey(keys: KeyLayout, projectionName: string): string {
  return keys.projection(projectionName, 'checkpoint');
}

/** What follows a stream's key in the field that counts its entries consumed; the checkpoint include of the Lua scripts gets it as CHECKPOINT.entriesSuffix. */
export const ENTRIES_SUFFIX = '|entries';

/** The field of the checkpoint hash that counts the entries consumed from `stream`. */
export function entriesField(stream: string): string {
  return `${stream}${ENTRIES_SUFFIX}`;
}

export interface ProjectionLag {
  /** Log entries not applied yet, over every log stream. */
  events: number;
  /** How long the oldest entry not applied yet has been in the log (0 when caught up). */
  seconds: number;
}

/** Where a projection stands in one log stream. */
export interface StreamProgress {
  /** Id of the last entry applied ('' when nothing was applied from the stream). */
  readonly position: string;
  /** Entries consumed from the stream up to `position`. */
  readonly consumed: number;
}

/** Each log stream's progress, from one read of the checkpoint hash. */
export async function loadProgress(redis: RedisConnection, keys: KeyLayout, projectionName: string): Promise<Map<string, StreamProgress>> {
  const stored = await redis.hgetall(projectionCheckpointKey(keys, projectionName));
  return new Map(keys.logStreams.map((stream) => [stream, { position: stored[stream] ?? '', consumed: Number(stored[entriesField(stream)] ?? 0) }]));
}

/** Each log stream's checkpoint ('' when nothing was applied from it). */
export async function loadCheckpoints(redis: RedisConnection, keys: KeyLayout, projectionName: string): Promise<Map<string, string>> {
  const progress = await loadProgress(redis, keys, projectionName);
  return new Map([...progress].map(([stream, { position }]) => [stream, position]));
}

/** Deletes the read model and the checkpoint in one MULTI, so the projection starts over from the first event. */
export async function resetProjection(redis: RedisConnection, keys: KeyLayout, projection: Projection): Promise<void> {
  await execAll(redis.multi().del(projectionCheckpointKey(keys, projection.name), ...projection.readModelKeys));
}

/**
 * Read from the log and the checkpoint. The log is never trimmed, so its length minus the entries
 * consumed is exactly what is left; the oldest entry left is the first after the checkpoint.
 */
export async function projectionLag(redis: RedisConnection, keys: KeyLayout, projectionName: string, now = Date.now()): Promise<ProjectionLag> {
  const stored = await redis.hgetall(projectionCheckpointKey(keys, projectionName));
  // One read per stream, not one pipeline: the partitions' streams may live on different cluster nodes.
  const perStream = await Promise.all(
    keys.logStreams.map(async (stream) => {
      const [length, [next]] = await Promise.all([
        redis.xlen(stream),
        redis.xrange(stream, stored[stream] ? `(${stored[stream]}` : '-', '+', 'COUNT', 1) as Promise<[string, string[]][]>,
      ]);
      return { length: length - Number(stored[entriesField(stream)] ?? 0), nextAt: next ? Number(next[0].split('-')[0]) : now };
    }),
  );
  const events = perStream.reduce((sum, { length }) => sum + Math.max(0, length), 0);
  const oldestMs = Math.min(now, ...perStream.map(({ nextAt }) => nextAt));
  return { events, seconds: Math.max(0, now - oldestMs) / 1000 };
}
