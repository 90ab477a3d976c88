import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { RedisConnection } from '@app/redis';
import { ConsumerHealth } from './consumer-health';
import { REDIS } from './tokens';

/** The readiness check that Redis answers (every service's, and the Odoo connector's). */
export function redisHealthCheck(indicators: HealthIndicatorService, redis: RedisConnection): () => Promise<HealthIndicatorResult> {
  return async () => {
    const indicator = indicators.check('redis');
    try {
      await redis.ping();
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: String(error) });
    }
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
