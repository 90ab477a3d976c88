import { PartitionKeys } from '@app/event-store';
import { execAll, RedisConnection } from '@app/redis';
import { Finding } from './finding';

/** The Redis types the services write, as findings name them, and as TYPE answers them. */
export const REDIS_TYPES = { hash: 'hash', list: 'list', set: 'set', 'sorted set': 'zset', stream: 'stream', string: 'string' } as const;
export type ExpectedKeyType = keyof typeof REDIS_TYPES;

/** A key of a mission (or of its whole partition: missionId '') that holds another Redis type than `expected`, the one the services write there. */
export interface WrongTypeKey {
  missionId: string;
  key: string;
  expected: ExpectedKeyType;
}

/** Those of `expected` whose key holds another Redis type (one TYPE each, pipelined: keys of one partition); a key that does not exist is none. */
export async function keysOfAnotherType(redis: RedisConnection, expected: readonly WrongTypeKey[]): Promise<WrongTypeKey[]> {
  if (expected.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const { key } of expected) pipeline.type(key);
  const types = await execAll(pipeline);
  return expected.filter((entry, i) => types[i] !== 'none' && types[i] !== REDIS_TYPES[entry.expected]);
}

/** The partition's log when it holds another Redis type than a stream (changed by hand): then no event of the partition can be read. */
export async function logOfAnotherType(redis: RedisConnection, keys: PartitionKeys): Promise<WrongTypeKey | undefined> {
  const [log] = await keysOfAnotherType(redis, [{ missionId: '', key: keys.log, expected: 'stream' }]);
  return log;
}

/** How a `wrong-type` finding names its key. */
export function wrongTypeDetail(key: string, type: string): string {
  return `the key ${key} holds another type of value than a ${type}, which no service writes: nothing can read it`;
}

/** The `wrong-type` finding of a key, `consequence` (what it stops) after its name. */
export function wrongTypeFinding({ missionId, key, expected }: WrongTypeKey, consequence = ''): Finding {
  return { kind: 'wrong-type', missionId, logId: '', detail: `${wrongTypeDetail(key, expected)}${consequence ? `; ${consequence}` : ''}` };
}
