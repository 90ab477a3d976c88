import { ValidationOptions } from 'class-validator';
import { IsParsedBy } from './parsed-by';

const WHOLE_NUMBER = /^\d+$/;
/**
 * The ioredis client options a refused query parameter is named by: any other text after `?` may
 * be a secret written there (a bare token reads like a name), so it is not shown.
 */
const SHOWN_PARAMETERS = new Set([
  'autoResubscribe',
  'commandTimeout',
  'connectTimeout',
  'connectionName',
  'enableAutoPipelining',
  'enableOfflineQueue',
  'enableReadyCheck',
  'family',
  'keepAlive',
  'keyPrefix',
  'lazyConnect',
  'maxRetriesPerRequest',
  'name',
  'noDelay',
  'password',
  'readOnly',
  'socketTimeout',
  'tls',
  'username',
]);

/**
 * The database a Redis URL names: the number of its path (`redis://host:6379/2`), else of its `db`
 * parameter (`?db=2`), which ioredis reads too, else 0. Throws naming `variable` for a URL ioredis
 * would not take as written: not `redis://` or `rediss://`, one the URL parser refuses (a port
 * past 65535, which ioredis threw on at start with a stack), or a path or `db` that is
 * not a whole number (ioredis reads `/abc` as SELECT NaN and `/2x` as database 2), or a query
 * parameter other than `db`. A database the server does not have passes here; waitForRedis refuses
 * it at start, since ioredis would only report the failed SELECT and carry on in database 0.
 */
export function redisUrlDatabase(url: string, variable: string): number {
  let parsed: URL | undefined;
  try {
    parsed = /^rediss?:\/\/\S+$/.test(url) ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed) throw new Error(`${variable} must look like redis://host:port`);
  // ioredis takes every other query parameter as a client option, over the project's own (keyPrefix,
  // socketTimeout, maxRetriesPerRequest…): a `?keyPrefix=x:` would split the keys between two layouts.
  const other = [...parsed.searchParams.keys()].find((name) => name !== 'db');
  if (other !== undefined) {
    const named = SHOWN_PARAMETERS.has(other) ? ` (here ${other})` : '';
    const hint = other === 'password' || other === 'username' ? '; the login goes before the host, redis://user:password@host:port' : '';
    throw new Error(`${variable} takes no query parameter but db${named}: ioredis would apply it over the services' own client settings${hint}`);
  }
  // No part of the URL in the message but a known option's name: the refusal shows the URL beside, its password and query masked (hideUrlSecrets).
  const path = parsed.pathname === '/' ? '' : parsed.pathname.slice(1);
  const parameter = parsed.searchParams.get('db');
  if (path !== '' && parameter !== null) throw new Error(`${variable} names its database twice, in the path and in ?db=; keep the path (redis://host:port/2)`);
  const database = path || parameter;
  if (database === null || database === '') return 0;
  if (!WHOLE_NUMBER.test(database)) {
    throw new Error(`${variable} names a database that is not a whole number; give its number as the path, e.g. redis://host:6379/2, or none for database 0`);
  }
  return Number(database);
}

/** class-validator rule that reports redisUrlDatabase's own message, so validation and use never disagree. */
export function IsRedisUrl(options?: ValidationOptions): PropertyDecorator {
  return IsParsedBy('isRedisUrl', 'REDIS_URL', (text) => redisUrlDatabase(text, 'REDIS_URL'), options);
}
