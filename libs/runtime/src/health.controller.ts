import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { RedisConnection, redisReachable, withinDeadline } from '@app/redis';
import { ConsumerHealth } from './consumer-health';
import { REDIS } from './tokens';

/**
 * How long a readiness check waits for Redis: load balancers give a probe about a second, and a
 * command sent while Redis is down would wait out every reconnect (about 30 s) before it failed.
 */
export const REDIS_CHECK_TIMEOUT_MS = 1_000;

/** What readiness says of Redis when it is down or does not answer in time: no internal error text. */
export const REDIS_DOWN_MESSAGE = 'redis unreachable';

/**
 * The readiness check that Redis answers (every service's, and the Odoo connector's): down at once
 * while the connection is reconnecting (no PING is queued behind the outage), else a PING that must
 * answer within REDIS_CHECK_TIMEOUT_MS.
 */
export function redisHealthCheck(indicators: HealthIndicatorService, redis: RedisConnection): () => Promise<HealthIndicatorResult> {
  return async () => {
    const indicator = indicators.check('redis');
    if (!redisReachable(redis)) return indicator.down({ message: REDIS_DOWN_MESSAGE });
    const answered = await withinDeadline(redis.ping(), REDIS_CHECK_TIMEOUT_MS);
    return answered ? indicator.up() : indicator.down({ message: REDIS_DOWN_MESSAGE });
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

  /** Readiness: Redis answers and the stream consumer runs; 503 otherwise. */
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
