import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { Projection } from './projection';

/**
 * Hash of a projection's positions: field `<log stream key>` holds the id of the last entry applied
 * from that stream, field `<log stream key>|entries` how many of its entries were consumed.
 */
export function projectionCheckpointKey(keys: KeyLayout, projectionName: string): string {
  return keys.projection(projectionName, 'checkpoint');
}

/** The field of the checkpoint hash that counts the entries consumed from `stream`. */
export function entriesField(stream: string): string {
  return `${stream}|entries`;
}

export interface ProjectionLag {
  /** Log entries not applied yet, over every log stream. */
  events: number;
  /** How long the oldest entry not applied yet has been in the log (0 when caught up). */
  seconds: number;
}

/** Each log stream's checkpoint ('' when nothing was applied from it). */
export async function loadCheckpoints(redis: Redis, keys: KeyLayout, projectionName: string): Promise<Map<string, string>> {
  const stored = await redis.hgetall(projectionCheckpointKey(keys, projectionName));
  return new Map(keys.logStreams.map((stream) => [stream, stored[stream] ?? '']));
}

/** Deletes the read model and the checkpoint in one MULTI, so the projection starts over from the first event. */
export async function resetProjection(redis: Redis, keys: KeyLayout, projection: Projection): Promise<void> {
  const results = await redis
    .multi()
    .del(projectionCheckpointKey(keys, projection.name), ...projection.readModelKeys)
    .exec();
  for (const [error] of results ?? []) if (error) throw error;
}

/**
 * Read from the log and the checkpoint. The log is never trimmed, so its length minus the entries
 * consumed is exactly what is left; the oldest entry left is the first after the checkpoint.
 */
export async function projectionLag(redis: Redis, keys: KeyLayout, projectionName: string, now = Date.now()): Promise<ProjectionLag> {
  const stored = await redis.hgetall(projectionCheckpointKey(keys, projectionName));
  const pipeline = redis.pipeline();
  for (const stream of keys.logStreams) {
    pipeline.xlen(stream);
    pipeline.xrange(stream, stored[stream] ? `(${stored[stream]}` : '-', '+', 'COUNT', 1);
  }
  const replies = (await pipeline.exec()) ?? [];
  for (const [error] of replies) if (error) throw error;
  let events = 0;
  let oldestMs = now;
  keys.logStreams.forEach((stream, i) => {
    const length = replies[2 * i][1] as number;
    events += Math.max(0, length - Number(stored[entriesField(stream)] ?? 0));
    const [next] = replies[2 * i + 1][1] as [string, string[]][];
    if (next) oldestMs = Math.min(oldestMs, Number(next[0].split('-')[0]));
  });
  return { events, seconds: Math.max(0, now - oldestMs) / 1000 };
}
