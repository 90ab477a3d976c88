import * as path from 'node:path';
import type Redis from 'ioredis';
import { findFreePorts } from '../../libs/redis/src/free-port';
import { BenchAborted, sleep } from './stats';
import { Service, SERVICES } from './rss';

/** Free TCP ports, one per service, none of them the same. */
export function freePorts(): Promise<Record<Service, number>> {
  return findFreePorts(SERVICES);
}

/** Polls /health/ready of every service until all answer 200. */
export async function waitReady(ports: Record<Service, number>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const pending = new Set<Service>(SERVICES);
  const until = Date.now() + timeoutMs;
  let last = '';
  while (pending.size > 0) {
    for (const service of [...pending]) {
      try {
        const response = await fetch(`http://127.0.0.1:${ports[service]}/health/ready`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        if (response.status === 200) pending.delete(service);
        else last = `${service}: HTTP ${response.status}`;
      } catch (error) {
        last = `${service}: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    if (pending.size === 0) return;
    if (signal?.aborted) throw new BenchAborted();
    if (Date.now() > until) throw new Error(`not ready after ${timeoutMs / 1000} s: ${[...pending].join(', ')} (last: ${last})`);
    await sleep(200, signal);
  }
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
