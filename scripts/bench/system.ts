import { join } from 'node:path';
import type Redis from 'ioredis';
import { SERVICE_NAMES, ServiceName } from '@app/messages';
import { findFreePorts, escapeGlob, scanKeys } from '@app/redis';

/** Free TCP ports, one per service, none of them the same. */
export function freePorts(): Promise<Record<ServiceName, number>> {
  return findFreePorts(SERVICE_NAMES);
}

/** MEMORY USAGE … SAMPLES 0 (exact) summed over every key under `prefix`. */
export async function memoryUnder(redis: Redis, prefix: string): Promise<number> {
  if (!prefix) throw new Error('refusing to walk keys without a prefix');
  let bytes = 0;
  for await (const keys of scanKeys(redis, `${escapeGlob(prefix)}*`)) {
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

/**
 * The environment the bench gives the services it starts: its Redis and key prefix, warnings-only
 * JSON logs, and no ODOO_URL: the bench measures the pipeline, and an Odoo connector started from
 * the caller's shell would poll (and write back to) that Odoo under the bench's fresh prefix.
 */
export function benchServiceEnv(redisUrl: string, keyPrefix: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { ODOO_URL: _connector, ...inherited } = process.env;
  return { ...inherited, REDIS_URL: redisUrl, KEY_PREFIX: keyPrefix, LOG_LEVEL: process.env.LOG_LEVEL || 'warn', LOG_FORMAT: 'json', ...extra };
}

/**
 * NODE_OPTIONS that preload without-guest-data.js (`--guest-data off`) into the services the
 * launcher starts from dist/, after whatever NODE_OPTIONS the bench itself was given.
 */
export function withoutGuestDataNodeOptions(current: string | undefined): string {
  const preload = `--require "${join(__dirname, 'without-guest-data.js')}"`;
  return current ? `${current} ${preload}` : preload;
}
