import { RedisConnection } from './redis-connection';
import { isRedisOutOfMemory } from './redis-memory';
import { someReplyCause } from './redis-replies';

/**
 * What an HTTP client is told while Redis is unreachable: no internal error text (ioredis's
 * "Reached the max retries per request limit…" says nothing an API client can act on).
 */
export const REDIS_UNREACHABLE_MESSAGE = 'the store (Redis) is unreachable; retry later';

/** Seconds a client is asked to wait (Retry-After) before it tries again while Redis is unreachable. */
export const REDIS_UNREACHABLE_RETRY_AFTER_SECONDS = 5;

/**
 * Refused because the connection to Redis is down: at once, before anything was sent or written, or
 * (the intake's requests under way) once the outage outlasted the request's wait, when what it had
 * sent or queued may still run after the reconnect.
 */
export class RedisUnreachableError extends Error {
  constructor() {
    super(REDIS_UNREACHABLE_MESSAGE);
    this.name = 'RedisUnreachableError';
  }
}

/**
 * Whether the connection is up, as the client knows it now, without a round trip. A connection that
 * lost Redis is `reconnecting` (or `connecting` again) until Redis is back; its commands meanwhile
 * wait in the offline queue and fail only after maxRetriesPerRequest reconnects (about 30 s), and
 * those sent before the drop wait to be resent however long Redis is away. A lazy
 * connection that sent nothing yet (`wait`) counts as up: its first command connects it.
 */
export function redisReachable(connection: RedisConnection): boolean {
  return connection.status === 'ready' || connection.status === 'wait';
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const CONNECTION_ERROR_NAMES = new Set(['RedisUnreachableError', 'MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const CONNECTION_ERROR_MESSAGES = new Set(['Connection is closed.', 'None of startup nodes is available', 'Failed to refresh slots cache.']);

/**
 * Whether an error (or one it was caused by) says Redis could not be reached, as opposed to a
 * command Redis answered with an error: ioredis's retries exhausted while reconnecting, a closed
 * connection, a refused or reset socket, a cluster with no node answering.
 */
export function isRedisUnreachable(error: unknown): boolean {
  return someCause(error, (cause) => {
    const code = (cause as { code?: unknown }).code;
    return isRedisClientFailure(cause) || (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code));
  });
}

/** An error (or one it was caused by) that `test` holds for, down to five causes deep. */
function someCause(error: unknown, test: (cause: Error) => boolean): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) if (test(cause)) return true;
  return false;
}

/** ioredis's own word that it lost Redis: only the Redis client says this, unlike a socket's error code. */
function isRedisClientFailure(error: Error): boolean {
  return CONNECTION_ERROR_NAMES.has(error.name) || CONNECTION_ERROR_MESSAGES.has(error.message);
}

/**
 * Redis's refusals that pass by themselves, by the first word of the reply: a server still loading
 * its data after a restart (LOADING); a replica, during a failover or a misdirected connection
 * (READONLY), or one cut from its master (MASTERDOWN); a Cluster slot moving or a cluster down while
 * a master fails over (TRYAGAIN, CLUSTERDOWN); a script running past its time limit (BUSY).
 */
const PASSING_REFUSALS = new Set(['LOADING', 'READONLY', 'MASTERDOWN', 'TRYAGAIN', 'CLUSTERDOWN', 'BUSY']);

/**
 * Whether Redis (or one error that caused this one) refused the command for a while: it is loading,
 * failing over, or a replica (PASSING_REFUSALS). Redis answered, so this is no outage of the
 * connection; but the same command may well succeed in a moment.
 */
export function isRedisPassingRefusal(error: unknown): boolean {
  return someReplyCause(error, (reply) => PASSING_REFUSALS.has(reply.message.split(' ', 1)[0]));
}

/**
 * Whether the same command may well succeed later with nothing changed: Redis out of memory or
 * refusing for a while (isRedisPassingRefusal), or ioredis's word that it lost Redis. Not a bare
 * socket code (ECONNREFUSED, ENOTFOUND…): a handler's own HTTP or DNS failure has those too, and the
 * transport retries a transient error whatever its deliveries, so such a message would never be
 * poisoned.
 */
export function isTransientRedisError(error: unknown): boolean {
  return isRedisOutOfMemory(error) || isRedisPassingRefusal(error) || someCause(error, isRedisClientFailure);
}

/**
 * The promise's value, or undefined once `timeoutMs` passed without one (a rejection too is
 * undefined). For reads that must answer promptly whatever Redis does (readiness, /metrics): the
 * command itself is not cancelled, its late outcome is dropped.
 */
export async function withinDeadline<T>(promise: Promise<T>, timeoutMs: number): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        () => undefined,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
