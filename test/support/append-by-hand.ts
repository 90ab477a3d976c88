import Redis from 'ioredis';
import { sha1Hex } from '@app/audit';
import { KeyLayout, MISSION_HASH_FIELDS } from '@app/event-store';
import { knownStepTime } from '@app/testing';

/** Stands for the data's JSON in the event's text until it is spliced in. */
const DATA_SLOT = 'data-spliced-here';

/**
 * Appends an event of `type` as a mission's next (its first when the mission has no hash), by hand
 * but as the append script would link it (its `prevHash` the mission's `h`, its `logPrevHash` the
 * log head, both moved on, `v` and the event list too), so that only the event itself is wrong:
 * the hash chains hold. `data` is the event's data, or its JSON text as given (for one nested past
 * what JSON.stringify can write). Returns its log id.
 */
export async function appendByHand(redis: Redis, keys: KeyLayout, missionId: string, type: string, data: object | string): Promise<string> {
  const partition = keys.of(missionId);
  const [h, v] = await redis.hmget(partition.mission(missionId), MISSION_HASH_FIELDS.lastEventHash, MISSION_HASH_FIELDS.version);
  const logHead = (await redis.get(partition.logHead)) ?? '';
  const version = Number(v ?? 0) + 1;
  const json = JSON.stringify({
    eventId: `by-hand-${missionId}-${version}`,
    type,
    missionId,
    version,
    at: knownStepTime(40).toISOString(),
    actor: 'by-hand',
    correlationId: `corr-${missionId}`,
    causationId: `corr-${missionId}`,
    schemaVersion: 8,
    data: typeof data === 'string' ? DATA_SLOT : data,
    prevHash: h ?? '',
    logPrevHash: logHead,
  }).replace(`"${DATA_SLOT}"`, () => (typeof data === 'string' ? data : ''));
  const logId = (await redis.xadd(partition.log, '*', 'm', missionId, 'e', json)) ?? '';
  await redis.set(partition.logHead, sha1Hex(json));
  await redis.hset(partition.mission(missionId), MISSION_HASH_FIELDS.lastEventHash, sha1Hex(json), MISSION_HASH_FIELDS.version, String(version));
  await redis.rpush(partition.missionEvents(missionId), logId);
  return logId;
}
