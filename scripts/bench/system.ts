import type Redis from 'ioredis';
import { KeyLayout } from '../../libs/event-store/src/key-layout';
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
  for (;;) {
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

/** Every key under `prefix`, a SCAN page at a time (never KEYS on a shared server). */
async function* keysUnder(redis: Redis, prefix: string): AsyncGenerator<string[]> {
  if (!prefix) throw new Error('refusing to walk keys without a prefix');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', new KeyLayout(prefix).pattern, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/** SCAN MATCH <prefix>* + UNLINK: only this run's keys, never a flush of the shared server. */
export async function deleteRunKeys(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of keysUnder(redis, prefix)) deleted += await redis.unlink(...keys);
  return deleted;
}

/** MEMORY USAGE … SAMPLES 0 (exact) summed over every key under `prefix`. */
export async function memoryUnder(redis: Redis, prefix: string): Promise<number> {
  let bytes = 0;
  for await (const keys of keysUnder(redis, prefix)) {
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    for (const [, reply] of (await pipeline.exec()) ?? []) bytes += Number(reply ?? 0);
  }
  return bytes;
}

/** CPU the Redis server has used since it started (INFO cpu: used_cpu_sys + used_cpu_user), ms. */
export async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1000;
}

/** The environment the bench gives the services it starts: its Redis and key prefix, warnings-only JSON logs. */
export function benchServiceEnv(redisUrl: string, keyPrefix: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, REDIS_URL: redisUrl, KEY_PREFIX: keyPrefix, LOG_LEVEL: process.env.LOG_LEVEL || 'warn', LOG_FORMAT: 'json', ...extra };
}
