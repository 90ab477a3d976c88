import { ReplyError } from 'ioredis';
import { RedisConnection } from './redis-connection';

/**
 * Whether `error` is the server refusing the SELECT of the database a URL names (one it does not
 * have): ioredis sends it at connect, reports the refusal as an `error` event only (the command's
 * name in `command`, DataHandler) and carries on in database 0.
 */
export function isSelectRefusal(error: Error): boolean {
  return error instanceof ReplyError && (error as Error & { command?: { name?: string } }).command?.name === 'select';
}

/** The database the connection is on, as CLIENT INFO (Redis 6.2) gives it; undefined when the server refuses it (a renamed command). */
async function connectionDatabase(connection: RedisConnection): Promise<number | undefined> {
  const info = await connection.call('CLIENT', 'INFO').catch(() => '');
  const database = typeof info === 'string' ? /(?:^| )db=(\d+)(?: |$)/m.exec(info)?.[1] : undefined;
  return database === undefined ? undefined : Number(database);
}

/**
 * Why a connection to one server is not on `database`, the one its URL names, to follow "Redis at
 * <url>"; undefined when it is, or when the server refuses CLIENT INFO and refused no SELECT
 * (`selectRefusal`, the message of the isSelectRefusal error). Reads and writes no key, so that a
 * caller can refuse before anything touches database 0.
 */
export async function wrongDatabase(connection: RedisConnection, database: number, selectRefusal: string | undefined): Promise<string | undefined> {
  const current = await connectionDatabase(connection);
  if (selectRefusal === undefined && (current === undefined || current === database)) return undefined;
  const answer = selectRefusal !== undefined ? `SELECT ${database}: ${selectRefusal}` : `CLIENT INFO: db=${current}`;
  return (
    `has no database ${database} (${answer}), and the connection would use database ${current ?? 0} instead; ` +
    'name a database the server has (redis.conf "databases", 16 by default: 0-15), or none for database 0'
  );
}
