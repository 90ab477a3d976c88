import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { RedisConnection, withinDeadline } from '@app/redis';
import { REDIS, REDIS_CHECK_TIMEOUT_MS, REDIS_DOWN_MESSAGE, redisHealthCheck } from '@app/runtime';
import { ConnectorHost, readLastPoll } from './connector-host';
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
    private readonly host: ConnectorHost,
    @Inject(REDIS) private readonly redis: RedisConnection,
  ) {}

  @Get('health')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /**
   * Ready when Redis answers and this instance's own last call to Odoo (its poll, or its login check
   * while another instance polls) succeeded; 503 with its error otherwise. `lastPoll` tells what the
   * last poll by any instance found, and which instance made it, without deciding this one's readiness.
   */
  @Get('health/ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      redisHealthCheck(this.indicators, this.redis),
      async () => {
        const indicator = this.indicators.check('odoo');
        const { reachable, lastError, checkedAt } = this.host.ownStatus;
        // The last poll is kept in Redis: while Redis does not answer, neither is it known.
        const read = await withinDeadline(readLastPoll(this.redis, this.keys), REDIS_CHECK_TIMEOUT_MS);
        const lastPoll = read ? read.value : `unknown: ${REDIS_DOWN_MESSAGE}`;
        return reachable ? indicator.up({ checkedAt, lastPoll }) : indicator.down({ message: lastError, checkedAt, lastPoll });
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
