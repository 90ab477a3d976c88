import { ChainableCommander } from 'ioredis';
import { MISSION_HASH_FIELDS, PartitionKeys } from '@app/event-store';
import { RedisConnection } from '@app/redis';

/** The skill set of the missions put in the ready queue by hand. */
export const RACE_SKILLS = 'plumbing';

/** When the missions put in the ready queue by hand were queued (ms): their ready-since time and `ea`. */
export const RACE_ENQUEUED_AT = 1_748_766_024_000;

/**
 * Puts mission `id` in the ready queue at `score` as an enqueue does: level high, skill set
 * RACE_SKILLS, its counts, its skill set's queue and ready-since in step, its queue fields in its
 * hash (one MULTI: every key is in the partition's slot).
 */
export async function enqueueByHand(redis: RedisConnection, keys: PartitionKeys, id: string, score: number): Promise<void> {
  await redis
    .multi()
    .zadd(keys.ready, score, id)
    .zadd(keys.readySince, RACE_ENQUEUED_AT, id)
    .hincrby(keys.readyByLevel, 'high', 1)
    .hincrby(keys.readyBySkills, RACE_SKILLS, 1)
    .zadd(keys.readyWithSkillsPrefix + RACE_SKILLS, score, id)
    .hset(
      keys.mission(id),
      MISSION_HASH_FIELDS.priorityLevel,
      'high',
      MISSION_HASH_FIELDS.skillSet,
      RACE_SKILLS,
      MISSION_HASH_FIELDS.enqueuedAt,
      RACE_ENQUEUED_AT,
    )
    .exec();
}

/**
 * `redis` as the ready-queue count check sees it, with `between` run after each read of the counts
 * (the HGETALL pipeline) on its own connection (duplicate(): the one it WATCHes, reads and EXECs
 * on), the first `times` of them: an enqueue or lease landing between the pass's reads, the counts
 * read and the ready queue not yet. `landed` counts those run.
 */
export function withWritesBetweenReads(redis: RedisConnection, between: () => Promise<void>, times: number): { redis: RedisConnection; landed: () => number } {
  let landed = 0;
  const wrapper = Object.create(redis) as { duplicate: () => RedisConnection };
  wrapper.duplicate = (): RedisConnection => {
    const connection = redis.duplicate();
    const pipeline = connection.pipeline.bind(connection) as () => ChainableCommander;
    connection.pipeline = (): ChainableCommander => {
      const commands = pipeline();
      const exec = commands.exec.bind(commands);
      const hgetall = commands.hgetall.bind(commands) as (key: string) => ChainableCommander;
      let readsCounts = false;
      commands.hgetall = ((key: string) => {
        readsCounts = true;
        return hgetall(key);
      }) as ChainableCommander['hgetall'];
      commands.exec = async (...args: Parameters<ChainableCommander['exec']>) => {
        const replies = await exec(...args);
        if (readsCounts && landed < times) {
          landed++;
          await between();
        }
        return replies;
      };
      return commands;
    };
    return connection;
  };
  return { redis: wrapper as RedisConnection, landed: () => landed };
}
