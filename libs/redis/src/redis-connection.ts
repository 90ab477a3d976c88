import Redis, { RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  /** Shows up in CLIENT LIST, so an operator can tell the services' connections apart. */
  name: string;
  /** For connections that sit in blocking reads: commands wait for a reconnect instead of failing. */
  blocking?: boolean;
}

export function createRedis(url: string, options: RedisConnectionOptions): Redis {
  const settings: RedisOptions = {
    connectionName: options.name,
    maxRetriesPerRequest: options.blocking ? null : 20,
    enableAutoPipelining: !options.blocking,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
  };
  return new Redis(url, settings);
}
