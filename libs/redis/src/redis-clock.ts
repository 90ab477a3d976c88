import { RedisConnection } from './redis-connection';

/**
 * Redis's clock in ms (`TIME`): what lease deadlines and agent-slot holds are stamped with, in
 * the scripts through `@redis/includes/redis-clock`, so a reader of them compares like with like.
 */
export async function redisNowMs(redis: RedisConnection): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
}
