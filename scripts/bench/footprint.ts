import type Redis from 'ioredis';
import type { KeyLayout } from '@app/event-store';
import { MISSION_HASH_FIELDS } from '@app/event-store';
import { throwIfAborted } from './stats';

/** Redis bytes per finished mission and what they are made of (bytes per mission unless named otherwise). */
export interface Footprint {
  /** Missions in the index (every mission the run created). */
  missions: number;
  sampled: number;
  missionHashBytes: number;
  eventListBytes: number;
  logShareBytes: number;
  /** The services' message streams. */
  streamShareBytes: number;
  idempotencyShareBytes: number;
  /** Everything else under the prefix (queues, index, counters, agents, rate limit). */
  otherShareBytes: number;
  bytesPerMission: number;
  /** The whole log stream. */
  logBytes: number;
  otherKeys: number;
}

/**
 * A finished mission's own keys (sampled, MEMORY USAGE with SAMPLES 0, i.e. exact) plus an even
 * share of the log and of every other key of the run. `excludePrefixes` leaves out keys that are
 * not the system's (the synthetic replay log, the peers).
 */
export async function measureFootprint(
  redis: Redis,
  keys: KeyLayout,
  finishedIds: readonly string[],
  sampleSize: number,
  excludePrefixes: readonly string[],
  signal?: AbortSignal,
): Promise<Footprint> {
  const missions = await redis.zcard(keys.partitions[0].missionIndex);
  const usage = (pipeline: ReturnType<Redis['pipeline']>, key: string) => pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
  // A random sample without replacement (partial Fisher–Yates).
  const ids = [...finishedIds];
  for (let i = 0; i < Math.min(sampleSize, ids.length); i++) {
    const j = i + Math.floor(Math.random() * (ids.length - i));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  const pipeline = redis.pipeline();
  for (const id of ids.slice(0, sampleSize))
    usage(usage(pipeline.hget(keys.mission(id), MISSION_HASH_FIELDS.status), keys.mission(id)), keys.missionEvents(id));
  const replies = ((await pipeline.exec()) ?? []).map(([, reply]) => reply);
  let [hashBytes, listBytes, sampled] = [0, 0, 0];
  for (let i = 0; i < replies.length; i += 3) {
    if (!['succeeded', 'dead_lettered', 'cancelled'].includes(String(replies[i]))) continue;
    sampled += 1;
    hashBytes += Number(replies[i + 1] ?? 0);
    listBytes += Number(replies[i + 2] ?? 0);
  }

  const log = keys.partitions[0].log;
  const missionPrefix = keys.partitions[0].missionPrefix;
  const base = missionPrefix.slice(0, -'mission:'.length);
  const bytes = { log: Number((await redis.call('MEMORY', 'USAGE', log, 'SAMPLES', '0')) ?? 0), stream: 0, idem: 0, other: 0 };
  let otherKeys = 0;
  let cursor = '0';
  do {
    throwIfAborted(signal);
    const [next, found] = await redis.scan(cursor, 'MATCH', keys.pattern, 'COUNT', 1_000);
    cursor = next;
    const measured = found.filter((key) => !key.startsWith(missionPrefix) && key !== log && !excludePrefixes.some((prefix) => key.startsWith(prefix)));
    const scan = redis.pipeline();
    for (const key of measured) usage(scan, key);
    ((await scan.exec()) ?? []).forEach(([, reply], i) => {
      const name = measured[i].startsWith(base) ? measured[i].slice(base.length) : measured[i].slice(keys.prefix.length);
      const kind = name.startsWith('stream:') ? 'stream' : name.startsWith('idem:') ? 'idem' : 'other';
      bytes[kind] += Number(reply ?? 0);
      if (kind === 'other') otherKeys += 1;
    });
  } while (cursor !== '0');

  const share = (total: number) => (missions > 0 ? total / missions : 0);
  const footprint = {
    missions,
    sampled,
    missionHashBytes: sampled > 0 ? hashBytes / sampled : NaN,
    eventListBytes: sampled > 0 ? listBytes / sampled : NaN,
    logShareBytes: share(bytes.log),
    streamShareBytes: share(bytes.stream),
    idempotencyShareBytes: share(bytes.idem),
    otherShareBytes: share(bytes.other),
    logBytes: bytes.log,
    otherKeys,
  };
  const { missionHashBytes, eventListBytes, logShareBytes, streamShareBytes, idempotencyShareBytes, otherShareBytes } = footprint;
  return { ...footprint, bytesPerMission: missionHashBytes + eventListBytes + logShareBytes + streamShareBytes + idempotencyShareBytes + otherShareBytes };
}
