import { Inject, Injectable } from '@nestjs/common';
import { ConfigError, Environment } from '@app/config';
import { RedisConnection } from '@app/redis';
import { ENVIRONMENT, REDIS } from './tokens';

/** A ConfigError: the service stops with its message and exit 78, as for a bad variable. */
export class LogPartitionsMismatchError extends ConfigError {
  constructor(configured: number, recorded: string) {
    super([
      `LOG_PARTITIONS=${configured}, but this KEY_PREFIX was set up with LOG_PARTITIONS=${recorded}: ` +
        'every process of a deployment must use the same value (missions are hashed to partitions by it)',
    ]);
    this.name = 'LogPartitionsMismatchError';
  }
}

/** Where a deployment records its LOG_PARTITIONS (read by the replay CLI too, and written by its import). */
export function logPartitionsKey(keyPrefix: string): string {
  return `${keyPrefix}config:log-partitions`;
}

/**
 * The first process of a deployment records its LOG_PARTITIONS under the key prefix; a process
 * started with another value refuses to start, instead of reading and writing the wrong
 * partitions. createServiceApp checks before the stream consumer starts: it would otherwise create
 * its groups and streams under the wrong layout first.
 */
@Injectable()
export class LogPartitionsGuard {
  constructor(
    @Inject(REDIS) private readonly redis: RedisConnection,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  async check(): Promise<void> {
    const key = logPartitionsKey(this.env.KEY_PREFIX);
    const recorded = await this.redis.set(key, String(this.env.LOG_PARTITIONS), 'NX', 'GET');
    if (recorded !== null && recorded !== String(this.env.LOG_PARTITIONS)) throw new LogPartitionsMismatchError(this.env.LOG_PARTITIONS, recorded);
  }
}
