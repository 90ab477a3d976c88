import * as path from 'node:path';
import { countKeysByPrefix, findFreePort } from '@app/redis';
import { redisUrl, testKeyPrefix, testRedis } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { runUntilExit } from '../support/run-until-exit';

/**
 * A service, and the four in one process, started with a REDIS_URL naming a database the server
 * does not have: from dist/ (built here when stale), since the exit code and what database 0
 * holds afterwards are the point.
 */
const ROOT = path.resolve(__dirname, '..', '..');
/** Well above what a refusal takes; before the fix the service ran on database 0 until killed. */
const DEADLINE_MS = 15_000;

describe('a service started with REDIS_URL naming a database the server does not have', () => {
  const database0 = testRedis();
  let databases: string;

  beforeAll(async () => {
    expect(ensureBuilt(ROOT)).toBe(0);
    [, databases] = (await database0.config('GET', 'databases')) as [string, string];
  }, 180_000);

  afterAll(async () => {
    await database0.quit();
  });

  it.each([
    ['intake', 'dist/apps/intake/src/main.js'],
    ['one-process', 'dist/scripts/one-process.js'],
  ])('given %s, then it exits 78 naming the database and the server answer, and writes nothing into database 0', async (who, script) => {
    const url = new URL(redisUrl());
    url.pathname = `/${databases}`;
    const prefix = testKeyPrefix('redis-database');
    const env = {
      ...process.env,
      REDIS_URL: url.toString(),
      REDIS_CLUSTER_NODES: '',
      KEY_PREFIX: prefix,
      API_KEYS: 'ops:redis-database-secret-0123456789:operator',
      PORT: String(await findFreePort()),
    };

    const run = await runUntilExit(process.execPath, [script], { cwd: ROOT, env, deadlineMs: DEADLINE_MS });

    expect(run).toEqual({
      code: 78,
      output: [
        `${who}: invalid configuration:`,
        `  - REDIS_URL: Redis at ${url.toString()} has no database ${databases} (SELECT ${databases}: ERR DB index is out of range), ` +
          'and the connection would use database 0 instead; name a database the server has (redis.conf "databases", 16 by default: 0-15), or none for database 0',
      ],
    });
    expect(await countKeysByPrefix(database0, prefix)).toBe(0);
  });
});
