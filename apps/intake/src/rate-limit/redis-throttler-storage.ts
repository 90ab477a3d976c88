import { ThrottlerStorage } from '@nestjs/throttler';
import { RedisConnection } from '@app/redis';

/**
 * One hit, atomically, on a fixed window kept in a single key (so it needs no hash tag in a
 * cluster). A blocked caller is one whose count passed the limit: its hits stop counting, and the
 * key then lives for the block duration, so the first hit after the block starts a fresh window
 * (as the in-memory storage resets its count when a block ends).
 * Returns {hits, ms until the window ends, blocked 0|1, ms until the block ends}.
 */
const HIT_SCRIPT = `
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local block = tonumber(ARGV[3])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current > limit then
  local left = redis.call('PTTL', KEYS[1])
  if left > 0 then return {current, left, 1, left} end
  redis.call('DEL', KEYS[1])
end
local hits = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if hits == 1 or left < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
  left = window
end
if hits <= limit then return {hits, left, 0, 0} end
if block > 0 then
  redis.call('PEXPIRE', KEYS[1], block)
  left = block
end
return {hits, left, 1, left}
`;

/** The package's index does not export the record type, so it is taken from the interface. */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

const COMMAND = 'brainThrottlerHit';

type HitCommand = (key: string, window: number, limit: number, block: number) => Promise<[number, number, number, number]>;

/**
 * ThrottlerStorage on Redis, so every gateway instance counts against one budget per caller.
 * `ttl` and `blockDuration` arrive in ms; the record's times go back in whole seconds (rounded
 * up), because ThrottlerGuard writes them as-is into Retry-After and X-RateLimit-Reset.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly hit: HitCommand;

  constructor(
    redis: RedisConnection,
    private readonly prefix: string,
  ) {
    const target = redis as unknown as Record<string, HitCommand | undefined>;
    // EVALSHA through ioredis' defineCommand, which reloads the script if Redis lost its cache.
    if (typeof target[COMMAND] !== 'function') redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: HIT_SCRIPT });
    const command = target[COMMAND] as HitCommand;
    this.hit = command.bind(redis);
  }

  key(key: string, throttlerName: string): string {
    return `${this.prefix}ratelimit:${throttlerName}:${key}`;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const [totalHits, windowMs, blocked, blockMs] = await this.hit(
      this.key(key, throttlerName),
      Math.max(1, Math.ceil(ttl)),
      Math.max(0, Math.floor(limit)),
      Math.max(0, Math.ceil(blockDuration)),
    );
    return {
      totalHits: Number(totalHits),
      timeToExpire: toSeconds(windowMs),
      isBlocked: blocked === 1,
      timeToBlockExpire: blocked === 1 ? Math.max(1, toSeconds(blockMs)) : 0,
    };
  }
}

function toSeconds(ms: number): number {
  return Math.max(0, Math.ceil(Number(ms) / 1000));
}
