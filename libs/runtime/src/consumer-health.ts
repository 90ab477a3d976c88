import { Injectable } from '@nestjs/common';
import { RedisStreamsServer } from '@app/redis-streams';

/** Lets the readiness check see whether this service's stream consumer is running, and shutdown stop its reading. */
@Injectable()
export class ConsumerHealth {
  private server: RedisStreamsServer | null = null;

  track(server: RedisStreamsServer): void {
    this.server = server;
  }

  get running(): boolean {
    return this.server?.isRunning ?? false;
  }

  /** The consumer takes no new messages; those in hand are still handled and acked. */
  async stopReading(): Promise<void> {
    await this.server?.stopReading();
  }
}
