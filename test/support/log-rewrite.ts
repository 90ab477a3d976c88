import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';

/**
 * Writes partition 0's log again, entry by entry with its own id, through `rewrite` (which may change
 * one entry's fields): a change made in Redis itself, which leaves the read model and the heads as
 * the services wrote them (an import would write them from the changed lines).
 */
export async function rewriteLog(redis: Redis, keys: KeyLayout, rewrite: (id: string, fields: Buffer[]) => Buffer[]): Promise<void> {
  const log = keys.partitions[0].log;
  const entries = (await redis.xrangeBuffer(log, '-', '+')) as [Buffer, Buffer[]][];
  await redis.del(log);
  for (const [id, fields] of entries) await redis.xadd(log, id.toString(), ...rewrite(id.toString(), fields));
}

/** Changes the stored event JSON (field e) of the entry `logId` through `edit`, keeping every entry's id. */
export async function editEventInPlace(redis: Redis, keys: KeyLayout, logId: string, edit: (json: string) => string): Promise<void> {
  await rewriteLog(redis, keys, (id, fields) => {
    if (id !== logId) return fields;
    const json = fields[3].toString('utf8');
    const edited = edit(json);
    if (edited === json) throw new Error(`the edit left ${logId} as it was`);
    return [fields[0], fields[1], fields[2], Buffer.from(edited)];
  });
}
