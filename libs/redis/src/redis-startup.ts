import { ReplyError } from 'ioredis';
import { ConfigError, redisUrlDatabase } from '@app/config';
import { redactUrl } from './embedded-redis';
import { createRedisConnection, RedisConnection, RedisTarget } from './redis-connection';
import { isSelectRefusal, wrongDatabase } from './redis-database';
import { isRedisUnreachable } from './redis-reachability';

/**
 * Redis did not answer within the start-up wait: no configuration error (78) but a service that is
 * not there, maybe not yet; the services exit with EXIT_REDIS_UNAVAILABLE on it.
 */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

/** EX_UNAVAILABLE of sysexits.h: a service the process needs is not available. */
export const EXIT_REDIS_UNAVAILABLE = 69;

export interface WaitForRedisOptions {
  timeoutMs: number;
  /** Told once, at the first failed attempt, that the wait has begun and why. */
  log: (line: string) => void;
}

/** The oldest Redis the services run on: ZINTERCARD (queue stats, the overdue dead letters' metric) came with 7.0. */
export const MINIMUM_REDIS_VERSION = '7.0.0';

/** The server's version as INFO gives it; undefined when it refuses INFO (a renamed command) or gives none. */
async function serverVersion(connection: RedisConnection): Promise<string | undefined> {
  const info = await connection.info('server').catch(() => '');
  return /^redis_version:(\d+\.\d+\.\d+)/m.exec(info)?.[1];
}

/** Whether dotted version `a` is older than `b` (major, minor and patch compared as numbers). */
function isOlderVersion(a: string, b: string): boolean {
  const [x, y] = [a, b].map((version) => version.split('.').map(Number));
  for (let index = 0; index < 3; index++) if (x[index] !== y[index]) return x[index] < y[index];
  return false;
}

/** INFO says so; a server that refuses INFO (a renamed command) is taken for a single one. */
async function isClusterNode(connection: RedisConnection): Promise<boolean> {
  const info = await connection.info('cluster').catch(() => '');
  return /^cluster_enabled:1\b/m.test(info);
}

/**
 * Waits until Redis answers a PING, reconnecting as the services' clients do. Throws
 * RedisUnavailableError past `timeoutMs`, naming the variable to check, and a ConfigError when the
 * server answers but refuses the credentials, which waiting does not fix, when REDIS_URL names a
 * Redis Cluster node, when the server is older than MINIMUM_REDIS_VERSION (its first command
 * of a newer Redis would fail while the service runs, a 500 or a silent metric, not at its start),
 * or when the connection is not on the database REDIS_URL names: ioredis reports a refused SELECT
 * (a database the server does not have) as an error event and carries on in database 0, where
 * the service would read and write another deployment's keys. Nothing here reads or writes a key.
 */
export async function waitForRedis(target: RedisTarget, options: WaitForRedisOptions): Promise<void> {
  const named = namedTarget(target);
  const { cluster, variable, where } = named;
  const seconds = Math.round(options.timeoutMs / 1_000);
  // A Cluster client selects no database, and the configuration refuses REDIS_URL naming one beside REDIS_CLUSTER_NODES.
  const database = cluster ? 0 : redisUrlDatabase(target.REDIS_URL, variable);
  let reason: string | undefined;
  let selectRefusal: string | undefined;
  // Blocking: its PING waits through the reconnects instead of failing after a few.
  const connection = createRedisConnection(target, { name: 'startup-check', blocking: true, lazyConnect: true, log: () => undefined });
  connection.on('error', (error: Error & { lastNodeError?: Error }) => {
    // The server answered; the database check below reports it, and no wait is begun.
    if (isSelectRefusal(error)) {
      selectRefusal = error.message;
      return;
    }
    const why = failureReason(error);
    if (reason === undefined) options.log(`waiting for ${where} (${why}), up to ${seconds} s`);
    reason = why;
  });
  try {
    const outcome = await withinMs(connection.ping(), options.timeoutMs);
    if (outcome === 'timeout') throw unavailable(named, reason, { withinMs: options.timeoutMs });
    // A client for one server gets MOVED for most keys from a cluster node, and the first keyed
    // command of the start would crash on it: a variable to fix (78), which waiting would not.
    if (!cluster && (await isClusterNode(connection))) {
      throw new ConfigError([`${variable}: ${where} is a Redis Cluster node; set REDIS_CLUSTER_NODES to the cluster's nodes (host:port,…) instead`]);
    }
    const version = await serverVersion(connection);
    if (version && isOlderVersion(version, MINIMUM_REDIS_VERSION)) {
      throw new ConfigError([`${variable}: ${where} is Redis ${version}; the services need Redis ${MINIMUM_REDIS_VERSION} or newer`]);
    }
    const problem = cluster ? undefined : await wrongDatabase(connection, database, selectRefusal);
    if (problem) throw new ConfigError([`${variable}: ${where} ${problem}`]);
  } catch (error) {
    if (error instanceof RedisUnavailableError || error instanceof ConfigError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ReplyError) throw new ConfigError([`${variable}: ${where} refused the connection: ${message}`]);
    throw unavailable(named, message);
  } finally {
    connection.disconnect();
  }
}

/**
 * A start-up step's reads and writes (`read`) before the process serves (checkLocalMasterKey's on a
 * connection of its own; a service's guards, eviction check and stream groups, see
 * startBeforeServing), once waitForRedis has let the start go on: Redis lost before or during
 * them ends the start as waitForRedis ends it, with a RedisUnavailableError (exit 69), once
 * `timeoutMs` (the start-up wait, REDIS_STARTUP_TIMEOUT_MS) passes without their answer, or
 * earlier should ioredis give a command up (maxRetriesPerRequest reconnects, about 35 s): a command
 * sent just before a drop waits to be resent however long Redis is away. A blip is waited through,
 * as the commands are resent on the reconnect. `connection` tells why (its last error, as waitForRedis
 * tells). What Redis answered with an error (WRONGTYPE, NOAUTH, READONLY, OOM…), and any other error,
 * is thrown as it is.
 */
export async function readAtStart<T>(connection: RedisConnection, target: RedisTarget, timeoutMs: number, read: () => Promise<T>): Promise<T> {
  let reason: string | undefined;
  const noteReason = (error: Error) => (reason = failureReason(error));
  connection.on('error', noteReason);
  const started = performance.now();
  try {
    const outcome = await withinMs(read(), timeoutMs);
    if (outcome === 'timeout') throw unavailable(namedTarget(target), reason, { withinMs: timeoutMs });
    return outcome.value;
  } catch (error) {
    throw asRedisUnavailable(error, target, { reason, afterMs: performance.now() - started }) ?? error;
  } finally {
    connection.off('error', noteReason);
  }
}

/**
 * The RedisUnavailableError (exit 69) for an error saying Redis could not be reached
 * (isRedisUnreachable: ioredis gave a command up, a closed connection, a refused socket), naming the
 * target and the variable to check; undefined for any other error, a command Redis answered with an
 * error among them. `reason`: the connection's last error, which says why better than ioredis's
 * "Reached the max retries per request limit"; `afterMs`: how long the start tried.
 */
export function asRedisUnavailable(error: unknown, target: RedisTarget, known: { reason?: string; afterMs?: number } = {}): RedisUnavailableError | undefined {
  if (error instanceof RedisUnavailableError) return error;
  if (!isRedisUnreachable(error)) return undefined;
  const why = known.reason ?? (error instanceof Error ? failureReason(error) : String(error));
  return unavailable(namedTarget(target), why, { afterMs: known.afterMs });
}

/** How the start-up lines name a target: where Redis is (the password masked), and the variable to check. */
interface NamedTarget {
  cluster: boolean;
  variable: 'REDIS_URL' | 'REDIS_CLUSTER_NODES';
  where: string;
}

function namedTarget(target: RedisTarget): NamedTarget {
  const cluster = Boolean(target.REDIS_CLUSTER_NODES?.trim());
  if (cluster) return { cluster, variable: 'REDIS_CLUSTER_NODES', where: `the Redis Cluster at ${target.REDIS_CLUSTER_NODES}` };
  return { cluster, variable: 'REDIS_URL', where: `Redis at ${redactUrl(target.REDIS_URL)}` };
}

/** Why a connection failed: a cluster's own error only says that no node answered; the last node's says why. */
function failureReason(error: Error & { lastNodeError?: Error }): string {
  return error.lastNodeError?.message ?? error.message;
}

/**
 * Redis not reached, and why: "within" the wait when it ran out (`withinMs`), "after" how long the
 * start tried when the client gave up first (`afterMs`), so the line never claims a bound it did not wait.
 */
function unavailable({ where, variable }: NamedTarget, why: string | undefined, time: { withinMs?: number; afterMs?: number } = {}): RedisUnavailableError {
  const seconds = (ms: number) => `${Math.round(ms / 1_000)} s`;
  const when = time.withinMs !== undefined ? ` within ${seconds(time.withinMs)}` : time.afterMs !== undefined ? ` after ${seconds(time.afterMs)}` : '';
  return new RedisUnavailableError(`cannot reach ${where}${when} (${why ?? 'no answer'}); check ${variable}`);
}

/** `work`'s value, or 'timeout' when it has not settled within `ms` (its rejection, if later, is then ignored). */
async function withinMs<T>(work: Promise<T>, ms: number): Promise<{ value: T } | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([work.then((value) => ({ value })), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
