import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { RedisConnection, withinDeadline } from '@app/redis';
import { REDIS, REDIS_CHECK_TIMEOUT_MS, REDIS_DOWN_MESSAGE, redisHealthCheck } from '@app/runtime';
import { readOdooStatus } from './connector-host';
import { ConnectorKeys } from './connector-keys';
import { OdooRefusals, RefusedRecordView } from './odoo-refusals';
import { AbandonedWriteBack, DelayedWriteBack, OdooWriteBack } from './odoo-write-back';

/** The connector's health and its write-backs, on its own port (like /metrics, not the public API). */
@Controller()
export class ConnectorHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly keys: ConnectorKeys,
    private readonly writeBack: OdooWriteBack,
    private readonly refusals: OdooRefusals,
    @Inject(REDIS) private readonly redis: RedisConnection,
  ) {}

  @Get('health')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Ready when Redis answers and the last poll (by any instance) reached Odoo; 503 with Odoo's last error while it is down. */
  @Get('health/ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      redisHealthCheck(this.indicators, this.redis),
      async () => {
        const indicator = this.indicators.check('odoo');
        // The status is kept in Redis: while Redis does not answer, neither is it known.
        const read = await withinDeadline(readOdooStatus(this.redis, this.keys), REDIS_CHECK_TIMEOUT_MS);
        if (!read) return indicator.down({ message: `unknown: ${REDIS_DOWN_MESSAGE}` });
        const { reachable, lastError, checkedAt } = read.value;
        return reachable ? indicator.up({ checkedAt }) : indicator.down({ message: lastError ?? 'not polled yet', checkedAt });
      },
    ]);
  }

  /** Write-backs that failed and are retried, or that Odoo's rate limit holds: mission, record, status, attempts, last error, next attempt. */
  @Get('connector/write-backs')
  delayed(): Promise<DelayedWriteBack[]> {
    return this.writeBack.delayed();
  }

  /** Write-backs given up because their record is gone from Odoo: mission, record, Odoo's reason, when. */
  @Get('connector/write-backs/abandoned')
  abandoned(): Promise<AbandonedWriteBack[]> {
    return this.writeBack.abandoned();
  }

  /** Records set aside because their mission was refused (by the connector or the intake): model, record, reason, whether the chatter note is still to post. */
  @Get('connector/refused')
  refused(): Promise<RefusedRecordView[]> {
    return this.refusals.list();
  }
}
