import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { ReadyQueue } from '@app/mission-queue';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, PeriodicTask, REDIS } from '@app/runtime';

/**
 * Returns missions whose lease ran out (the orchestrator died between leasing and assigning) to
 * the ready queue. Checking a quarter of the lease time keeps the worst delay at 1.25 leases.
 */
@Injectable()
export class LeaseExpiryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly task: PeriodicTask;

  constructor(
    private readonly queue: ReadyQueue,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    /** The connection the queue waits on: the sweep's task is given it for its stop. */
    @Inject(REDIS) redis: RedisConnection,
    @InjectPinoLogger(LeaseExpiryService.name) private readonly logger: PinoLogger,
  ) {
    this.task = new PeriodicTask(
      () => this.sweep(),
      (error) => this.logger.error({ err: error }, 'lease expiry sweep failed'),
      redis,
    );
  }

  onApplicationBootstrap(): void {
    this.task.start(Math.max(100, Math.floor(this.env.LEASE_MS / 4)));
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  /** One sweep over every partition (the task runs one every LEASE_MS/4). */
  async sweep(): Promise<void> {
    const returned = await this.queue.expireLeases(undefined, {
      // Once per mission: it has left the leases, and no sweep finds it again.
      onUnreadable: (error, staysOut) => this.logger.warn({ missionId: error.missionId }, `lease expired; ${error.message}, ${staysOut}`),
    });
    if (returned > 0) this.logger.warn({ returned }, 'leases expired; missions returned to the ready queue');
  }
}
