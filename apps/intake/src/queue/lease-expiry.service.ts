import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { ReadyQueue } from '@app/mission-queue';
import { ENVIRONMENT } from '@app/runtime';

/**
 * Returns missions whose lease ran out (the orchestrator died between leasing and assigning) to
 * the ready queue. Checking a quarter of the lease time keeps the worst delay at 1.25 leases.
 */
@Injectable()
export class LeaseExpiryService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: ReadyQueue,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    @InjectPinoLogger(LeaseExpiryService.name) private readonly logger: PinoLogger,
  ) {}

  onApplicationBootstrap(): void {
    const every = Math.max(100, Math.floor(this.env.LEASE_MS / 4));
    this.timer = setInterval(() => {
      this.sweeping = this.sweeping.then(() => this.sweep());
    }, every);
  }

  /** Before the Redis connection closes (shutdown hooks run after destroy hooks). */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  private async sweep(): Promise<void> {
    try {
      const returned = await this.queue.expireLeases();
      if (returned > 0) this.logger.warn({ returned }, 'leases expired; missions returned to the ready queue');
    } catch (error) {
      this.logger.error({ err: error }, 'lease expiry sweep failed');
    }
  }
}
