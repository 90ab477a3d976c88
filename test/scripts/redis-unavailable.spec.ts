import * as path from 'node:path';
import { findFreePort } from '@app/redis';
import { testKeyPrefix } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { runUntilExit } from '../support/run-until-exit';

/**
 * A service, and the four in one process, started while nothing answers at REDIS_URL: from dist/
 * (built here when stale), since what the terminal shows and the exit code are the point.
 */
const ROOT = path.resolve(__dirname, '..', '..');
/** Well above the 1 s wait the runs are given; before the fix they crashed only after ~35 s. */
const DEADLINE_MS = 15_000;

describe('a service started while Redis cannot be reached', () => {
  let port: number;
  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    REDIS_URL: `redis://:s3cret@127.0.0.1:${port}`,
    REDIS_CLUSTER_NODES: '',
    REDIS_STARTUP_TIMEOUT_MS: '1000',
    KEY_PREFIX: testKeyPrefix('redis-unavailable'),
    API_KEYS: 'ops:redis-unavailable-secret-0123456789:operator',
  });

  beforeAll(() => {
    expect(ensureBuilt(ROOT)).toBe(0);
  }, 180_000);

  beforeEach(async () => {
    port = await findFreePort('127.0.0.1');
  });

  it.each([
    ['intake', 'dist/apps/intake/src/main.js'],
    ['one-process', 'dist/scripts/one-process.js'],
  ])('given %s, then it says once that it waits, then exits 69 with one line naming REDIS_URL, the password masked', async (who, script) => {
    const run = await runUntilExit(process.execPath, [script], { cwd: ROOT, env: { ...env(), PORT: String(await findFreePort()) }, deadlineMs: DEADLINE_MS });

    const where = `Redis at redis://***@127.0.0.1:${port}`;
    expect(run).toEqual({
      code: 69,
      output: [
        `${who}: waiting for ${where} (connect ECONNREFUSED 127.0.0.1:${port}), up to 1 s`,
        `${who}: cannot reach ${where} within 1 s (connect ECONNREFUSED 127.0.0.1:${port}); check REDIS_URL`,
      ],
    });
  });
});
