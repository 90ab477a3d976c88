import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { RedisConnection, redisMemoryFull, redisReachable, withinDeadline } from '@app/redis';
import { ConsumerHealth } from './consumer-health';
import { REDIS } from './tokens';

/**
 * How long a readiness check waits for Redis: load balancers give a probe about a second, and a
 * command sent while Redis is down would wait out every reconnect (about 30 s) before it failed.
 */
export const REDIS_CHECK_TIMEOUT_MS = 1_000;

/** What readiness says of Redis when it is down or does not answer in time: no internal error text. */
export const REDIS_DOWN_MESSAGE = 'redis unreachable';

/** What readiness says of a Redis that refuses writes for its maxmemory. */
export const REDIS_MEMORY_FULL_MESSAGE = 'redis out of memory (writes refused)';

/**
 * The readiness check that Redis answers (every service's, and the Odoo connector's): down at once
 * while the connection is reconnecting (nothing is queued behind the outage), else `INFO memory`,
 * which must answer within REDIS_CHECK_TIMEOUT_MS (as a PING would) and must not say Redis is full:
 * a service whose every write is refused does no work, and its PING alone would have it ready.
 * A server that refuses INFO answered all the same: it is up.
 */
export function redisHealthCheck(indicators: HealthIndicatorService, redis: RedisConnection): () => Promise<HealthIndicatorResult> {
  return async () => {
    const indicator = indicators.check('redis');
    if (!redisReachable(redis)) return indicator.down({ message: REDIS_DOWN_MESSAGE });
    const answered = await withinDeadline(redisMemoryFull(redis), REDIS_CHECK_TIMEOUT_MS);
    if (!answered) return indicator.down({ message: REDIS_DOWN_MESSAGE });
    return answered.value ? indicator.down({ message: REDIS_MEMORY_FULL_MESSAGE }) : indicator.up();
  };
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly consumer: ConsumerHealth,
    @Inject(REDIS) private readonly redis: RedisConnection,
  ) {}

  /** Liveness: the process answers. */
  @Get()
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Readiness: Redis answers and has room for writes, and the stream consumer runs; 503 otherwise. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      redisHealthCheck(this.indicators, this.redis),
      async () => {
        const indicator = this.indicators.check('consumer');
        return this.consumer.running ? indicator.up() : indicator.down({ message: 'stream consumer not running' });
      },
    ]);
  }
}
