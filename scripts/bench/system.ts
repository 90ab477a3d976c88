import * as path from 'node:path';
import type Redis from 'ioredis';
import { findFreePorts } from '../../libs/redis/src/free-port';
import { Service, SERVICES } from './rss';

/** Free TCP ports, one per service, none of them the same. */
export function freePorts(): Promise<Record<Service, number>> {
  return findFreePorts(SERVICES);
}

/**
 * The environment the bench gives the services it starts: its Redis and key prefix, warnings-only
 * JSON logs, and with `cpuProfDir` the preload that writes a CPU profile when a service stops.
 */
export function benchServiceEnv(redisUrl: string, keyPrefix: string, cpuProfDir: string | undefined, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisUrl,
    KEY_PREFIX: keyPrefix,
    LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
    LOG_FORMAT: 'json',
    ...extra,
  };
  if (cpuProfDir) {
    env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--require ${path.join(__dirname, 'cpu-profile-preload.js')}`].filter(Boolean).join(' ');
    env.BENCH_CPU_PROF_DIR = path.resolve(cpuProfDir);
  }
  return env;
}
