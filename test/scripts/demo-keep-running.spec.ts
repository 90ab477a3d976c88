import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { countKeysByPrefix, findFreePort } from '@app/redis';
import { deleteKeysByPrefix, redisUrl, TEST_DATA_KEY_SECRET, testRedisConnection, waitFor } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { oneMissionFixtures } from '../support/demo-fixtures';

/**
 * `npm run demo -- --keep-running` leaves its keys in Redis only once it has printed the summary and
 * the `replay purge` command that deletes them. Stopped before that, it deletes its own keys as a run
 * without the option does: nothing told the user they were there. As a process from dist/ (built
 * here when stale), since what it leaves in Redis is what a user meets.
 */
const ROOT = path.resolve(__dirname, '..', '..');

describe('the demo with --keep-running stopped before its summary', () => {
  beforeAll(() => {
    expect(ensureBuilt(ROOT)).toBe(0);
  }, 180_000);

  it('given Ctrl-C while its mission is still running, then it exits 130 and deletes its own keys', async () => {
    const { dir, fixtures } = oneMissionFixtures('demo-keep-running-');
    // No KEY_PREFIX: the demo's own `demo:<time>:`, read from its first line. The mock LLM's
    // latency keeps the mission running until the Ctrl-C, well before the summary.
    const { KEY_PREFIX: _given, ...env } = process.env;
    const demo = spawn(process.execPath, [path.join('dist', 'scripts', 'demo.js'), '--fixtures', fixtures, '--schedules', '', '--keep-running'], {
      cwd: ROOT,
      env: {
        ...env,
        REDIS_URL: redisUrl(),
        PORT: String(await findFreePort()),
        LOG_FORMAT: 'json',
        API_KEYS: '',
        DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
        MOCK_LLM_LATENCY_MS: '60000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    for (const stream of [demo.stdout, demo.stderr]) stream.on('data', (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const exited = once(demo, 'close').then(([code]) => code as number | null);
    const redis = testRedisConnection('demo-keep-running-spec');
    let prefix: string | undefined;
    try {
      await waitFor(async () => output.some((line) => line.startsWith('submitted 1/1')) || (demo.exitCode !== null ? 'exited' : undefined), {
        timeoutMs: 60_000,
        intervalMs: 50,
        what: "the demo's submission",
      });
      prefix = /KEY_PREFIX=(demo:\d+:)/.exec(output.join('\n'))?.[1];
      expect(prefix).toBeDefined();
      expect(await countKeysByPrefix(redis, prefix!)).toBeGreaterThan(0);
      demo.kill('SIGINT');

      expect(await exited).toBe(130);
      const said = output.join('\n');
      expect(said).not.toContain('The system keeps running');
      expect(said).toMatch(new RegExp(`Deleted \\d+ demo key\\(s\\) under ${prefix!}`));
      expect(await countKeysByPrefix(redis, prefix!)).toBe(0);
    } finally {
      if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      if (prefix) await deleteKeysByPrefix(redis, prefix);
      await redis.quit();
    }
  }, 120_000);
});
