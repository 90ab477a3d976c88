import { INestApplication } from '@nestjs/common';
import { Environment } from '@app/config';
import { readAtStart, RedisConnection, withinDeadline } from '@app/redis';
import { REDIS } from './tokens';

/** How long an app whose start failed gets to close what it started before the process exits anyway. */
export const FAILED_START_CLOSE_MS = 3_000;

/**
 * The start-up steps that talk to Redis before the app serves (the deployment guards, the eviction
 * check, the stream groups), under one bound: Redis lost meanwhile is a RedisUnavailableError once
 * REDIS_STARTUP_TIMEOUT_MS passes (readAtStart), exit 69, where ioredis's give-up some 35 s later
 * used to crash the start with a stack and exit 1. On any failure (that one, or a guard's
 * ConfigError) the app is closed first, within FAILED_START_CLOSE_MS: with Redis gone its
 * connections do not wait for it, but a shutdown hook might.
 */
export async function startBeforeServing(app: INestApplication, env: Environment, steps: () => Promise<void>): Promise<void> {
  try {
    await readAtStart(app.get<RedisConnection>(REDIS), env, env.REDIS_STARTUP_TIMEOUT_MS, steps);
  } catch (error) {
    await withinDeadline(app.close(), FAILED_START_CLOSE_MS);
    throw error;
  }
}
