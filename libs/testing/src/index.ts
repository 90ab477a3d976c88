import { randomBytes } from 'node:crypto';
import Redis, { RedisOptions } from 'ioredis';
import { Effect } from '@app/event-store';
import { Mission } from '@app/mission';
import { queueKey, QueueOrderOptions } from '@app/mission-queue';
import { createRedisConnection, RedisConnection, RedisTarget } from '@app/redis';

/** A fresh namespace per test, so suites can share one Redis (even a developer's) and clean up precisely. */
export function testKeyPrefix(name: string): string {
  return `test:${name}:${randomBytes(4).toString('hex')}:`;
}

/** Set by test/setup/global-setup.ts, which may have started a private server on a random port. */
export function redisUrl(): string {
  return process.env.REDIS_URL || 'redis://127.0.0.1:6379';
}

/**
 * The Redis of this run as Environment variables: REDIS_CLUSTER_NODES is present only when
 * test/setup/cluster-global-setup.ts started a cluster. Spread it into a loadEnvironment() source.
 */
export function redisTarget(): Pick<RedisTarget, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'> {
  const clusterNodes = process.env.REDIS_CLUSTER_NODES?.trim();
  return clusterNodes ? { REDIS_URL: redisUrl(), REDIS_CLUSTER_NODES: clusterNodes } : { REDIS_URL: redisUrl() };
}

/**
 * A client for this run's Redis: a Cluster client under `npm run test:cluster`, else one for
 * redisUrl(); or for `target`, a test's own. It connects at its first command: a describe block
 * that Jest skips whole (`-t` matching none of its tests) runs neither its hooks nor its tests, so
 * a client that connected at once would never be quit, and its socket would keep Jest from exiting.
 */
export function testRedisConnection(name = 'test', target: RedisTarget = redisTarget()): RedisConnection {
  return createRedisConnection(target, { name, lazyConnect: true });
}

/** A plain client for the test Redis at REDIS_URL, connecting at its first command (see testRedisConnection). */
export function testRedis(options: RedisOptions = {}): Redis {
  return new Redis(redisUrl(), { lazyConnect: true, ...options });
}

// Cleanup helpers live with the Redis client code, which the CLIs share; tests import them from here as before.
export { deleteKeysByPrefix, escapeGlob } from '@app/redis';

/** The ready queue's order with the default settings (PRIORITY_HEADSTART_MS_PER_POINT, DEADLINE_LEAD_MS). */
export const TEST_QUEUE_ORDER: QueueOrderOptions = { headStartMsPerPoint: 3_000, deadlineLeadMs: 3_600_000 };

/**
 * The ready-queue effect of a create appended through MissionStore itself (MISSION_EFFECTS' enqueue,
 * at `at`, by TEST_QUEUE_ORDER): every queued mission is in the ready queue or a lease, which verify
 * holds the read model to.
 */
export function enqueuedAt(at: Date = new Date()): (mission: Mission) => Effect[] {
  const t = at.getTime();
  return (mission) => [{ kind: 'enqueue', score: queueKey(mission, t, TEST_QUEUE_ORDER), enqueuedAt: t, level: mission.priority }];
}

/** A stream entry's flat field list (`XRANGE`: name, value, name, value, …) as an object. */
export function streamFields(fields: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i]] = fields[i + 1];
  return map;
}

export interface WaitForOptions {
  timeoutMs: number;
  /** Default 25 ms. */
  intervalMs?: number;
  /** Named in the timeout error, e.g. "mission m-1 to be completed". */
  what: string;
  /** Ends the wait early (it rejects): a wait raced against something else stops polling when that wins. */
  signal?: AbortSignal;
}

/**
 * For eventually-consistent outcomes (consumers, projections): resolves with the first truthy value.
 * A probe that throws is treated like a miss, so a not-yet-created key or stream doesn't end the wait.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false>, opts: WaitForOptions): Promise<T> {
  const interval = opts.intervalMs ?? 25;
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown = undefined;
  for (;;) {
    if (opts.signal?.aborted) throw new Error(`stopped waiting for ${opts.what}`);
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, remaining)));
  }
  throw new Error(`Timed out after ${opts.timeoutMs} ms waiting for ${opts.what}; last value seen: ${describe(last)}`);
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// Fixtures and fakes that specs of several libs and the tests under test/ share.
export * from './mission-envelope';
export * from './known-log';
export * from './fake-chat-completions-server';
export * from './held-llm-client';
export * from './otlp-receiver';
export * from './webhook-receiver';
export * from './fake-odoo-server';
export * from './guest-data';
export * from './module-loads';
export * from './project-sources';
export * from './private-redis';
export * from './loopback-proxy';
export * from './freezable-proxy';
export * from './vanishing-proxy';

/**
 * The emitter's next `event`. Not events.once, which rejects at an `error` first: a Redis connection
 * that loses its server emits `error` before the `reconnecting` a test waits for.
 */
export function nextEvent(emitter: NodeJS.EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}
export * from './rejection-of';
