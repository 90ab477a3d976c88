import type Redis from 'ioredis';
import type { KeyLayout } from '../../libs/event-store/src/key-layout';
import { MISSION_HASH_FIELDS } from '../../libs/event-store/src/mission-hash-fields';
import { throwIfAborted } from './stats';

export interface Footprint {
  /** Missions in the index (every mission the run created). */
  missions: number;
  sampled: number;
  /** Mean MEMORY USAGE of a sampled finished mission's hash (v, st, s, h, rs). */
  missionHashBytes: number;
  /** Mean MEMORY USAGE of its event list (log entry ids). */
  eventListBytes: number;
  /** MEMORY USAGE of the log stream / missions. */
  logShareBytes: number;
  /** The services' message streams (intake, orchestrator, executor, evaluator, poison, rejected) / missions. */
  streamShareBytes: number;
  /** Idempotency keys (one per mission with a source or Idempotency-Key) / missions. */
  idempotencyShareBytes: number;
  /** Everything else under the prefix (queues, index, counters, agents, rate limit) / missions. */
  otherShareBytes: number;
  /** The sum: Redis bytes per finished mission. */
  bytesPerMission: number;
  logBytes: number;
  streams: Record<string, number>;
  otherKeys: number;
}

const MEMORY_BATCH = 1_000;

/**
 * Redis bytes per finished mission: its own keys (sampled over finished missions, MEMORY USAGE
 * with SAMPLES 0, i.e. exact) plus an even share of the log and of every other key of the run.
 * `excludePrefixes` leaves out keys that are not the system's (the synthetic replay log).
 */
export async function measureFootprint(
  redis: Redis,
  keys: KeyLayout,
  finishedIds: readonly string[],
  sampleSize: number,
  excludePrefixes: readonly string[] = [],
  signal?: AbortSignal,
): Promise<Footprint> {
  const missions = await redis.zcard(keys.partitions[0].missionIndex);
  const sample = pickSample(finishedIds, sampleSize);

  let hashBytes = 0;
  let listBytes = 0;
  let sampled = 0;
  for (let offset = 0; offset < sample.length; offset += MEMORY_BATCH) {
    const batch = sample.slice(offset, offset + MEMORY_BATCH);
    const pipeline = redis.pipeline();
    for (const id of batch) {
      pipeline.hget(keys.mission(id), MISSION_HASH_FIELDS.status);
      pipeline.call('MEMORY', 'USAGE', keys.mission(id), 'SAMPLES', '0');
      pipeline.call('MEMORY', 'USAGE', keys.missionEvents(id), 'SAMPLES', '0');
    }
    const replies = (await pipeline.exec()) ?? [];
    for (let i = 0; i < batch.length; i++) {
      const status = replies[3 * i][1];
      if (status !== 'succeeded' && status !== 'dead_lettered' && status !== 'cancelled') continue;
      sampled += 1;
      hashBytes += Number(replies[3 * i + 1][1] ?? 0);
      listBytes += Number(replies[3 * i + 2][1] ?? 0);
    }
  }

  const logBytes = Number((await redis.call('MEMORY', 'USAGE', keys.partitions[0].log, 'SAMPLES', '0')) ?? 0);
  const missionKey = keys.partitions[0].missionPrefix;
  const base = missionKey.slice(0, -'mission:'.length);
  const streams: Record<string, number> = {};
  let idempotencyBytes = 0;
  let otherBytes = 0;
  let otherKeys = 0;
  let cursor = '0';
  do {
    throwIfAborted(signal);
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.pattern, 'COUNT', 1_000);
    cursor = next;
    const measured = found.filter(
      (key) => !key.startsWith(missionKey) && key !== keys.partitions[0].log && !excludePrefixes.some((prefix) => key.startsWith(prefix)),
    );
    if (measured.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of measured) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    const replies = (await pipeline.exec()) ?? [];
    measured.forEach((key, i) => {
      const bytes = Number(replies[i][1] ?? 0);
      const name = key.startsWith(base) ? key.slice(base.length) : key.slice(keys.prefix.length);
      if (name.startsWith('stream:')) streams[name] = bytes;
      else if (name.startsWith('idem:')) idempotencyBytes += bytes;
      else {
        otherBytes += bytes;
        otherKeys += 1;
      }
    });
  } while (cursor !== '0');

  const perMission = (bytes: number) => (missions > 0 ? bytes / missions : 0);
  const streamBytes = Object.values(streams).reduce((sum, bytes) => sum + bytes, 0);
  const missionHashBytes = sampled > 0 ? hashBytes / sampled : NaN;
  const eventListBytes = sampled > 0 ? listBytes / sampled : NaN;
  const logShareBytes = perMission(logBytes);
  const streamShareBytes = perMission(streamBytes);
  const idempotencyShareBytes = perMission(idempotencyBytes);
  const otherShareBytes = perMission(otherBytes);
  return {
    missions,
    sampled,
    missionHashBytes,
    eventListBytes,
    logShareBytes,
    streamShareBytes,
    idempotencyShareBytes,
    otherShareBytes,
    bytesPerMission: missionHashBytes + eventListBytes + logShareBytes + streamShareBytes + idempotencyShareBytes + otherShareBytes,
    logBytes,
    streams,
    otherKeys,
  };
}

/** A random sample without replacement (partial Fisher–Yates). */
function pickSample<T>(items: readonly T[], size: number): T[] {
  const copy = [...items];
  const count = Math.min(size, copy.length);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(Math.random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, count);
}
