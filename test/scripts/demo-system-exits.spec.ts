import { ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { countKeysByPrefix, findFreePort } from '@app/redis';
import { deleteKeysByPrefix, redisUrl, TEST_DATA_KEY_SECRET, testKeyPrefix, testRedisConnection, waitFor } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { oneMissionFixtures } from '../support/demo-fixtures';
import { ProcessExit, runUntilExit } from '../support/run-until-exit';

/**
 * How the demo ends when the system it started stops on its own: with the services' own code when
 * they refused to start (a bad variable, no Redis), as `npm start` ends, and 1 once the system was
 * ready. As processes from dist/ (built here when stale), since the exit code is what a script sees.
 */
const ROOT = path.resolve(__dirname, '..', '..');

/** The demo from dist/ until it exits, killed after 50 s so that a hang fails the test instead of stalling it. */
function demoUntilExit(args: string[], env: NodeJS.ProcessEnv): Promise<ProcessExit> {
  return runUntilExit(process.execPath, [path.join('dist', 'scripts', 'demo.js'), ...args], { cwd: ROOT, env, deadlineMs: 50_000 });
}

/** `url` naming database `database`. */
function inDatabase(url: string, database: number): string {
  const named = new URL(url);
  named.pathname = `/${database}`;
  return named.toString();
}

/** `url` with `user` and `password` in it. */
function withUser(url: string, user: string, password: string): string {
  const named = new URL(url);
  named.username = user;
  named.password = password;
  return named.toString();
}

/** Every non-empty line `child` prints, stdout and stderr as they come. */
function collectLines(child: ChildProcessByStdio<null, Readable, Readable>): string[] {
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  return output;
}

describe('the demo when the system it started stops on its own', () => {
  const prefix = testKeyPrefix('demo-system-exits');
  const env = async (): Promise<NodeJS.ProcessEnv> => ({
    ...process.env,
    REDIS_URL: redisUrl(),
    KEY_PREFIX: prefix,
    PORT: String(await findFreePort()),
    LOG_FORMAT: 'json',
    API_KEYS: '',
    DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
  });

  beforeAll(() => {
    expect(ensureBuilt(ROOT)).toBe(0);
  }, 180_000);

  // What a case's services wrote under the prefix would otherwise be found by the next one.
  afterEach(async () => {
    const redis = testRedisConnection('demo-system-exits-spec');
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // The service named the variable and the launcher said "configuration error (exit 78)", and the demo ended 1.
  it.each([
    ['MAX_ATTEMPTS=abc', { MAX_ATTEMPTS: 'abc' }, 'MAX_ATTEMPTS="abc"'],
    ['REVIEW_POLICY_FILE naming no file', { REVIEW_POLICY_FILE: 'nope.yaml' }, 'REVIEW_POLICY_FILE'],
    ['a REDIS_URL database the server lacks', { REDIS_URL: inDatabase(redisUrl(), 99) }, 'has no database 99'],
  ])(
    'given %s, which the services refuse, then it exits 78 as they do, and says nothing of keys staying under the KEY_PREFIX it was given',
    async (_case, variables, named) => {
      const demo = await demoUntilExit(['--schedules', ''], { ...(await env()), ...variables });

      expect(demo.code).toBe(78);
      const output = demo.output.join('\n');
      expect(output).toContain(named);
      expect(output).toContain('configuration error (exit 78)');
      // It said `its keys stay in Redis; npm run replay -- purge … deletes them`, of a run that wrote nothing.
      expect(output).not.toContain('keys stay in Redis');
      expect(output).not.toContain('replay -- purge');
    },
    60_000,
  );

  // The orchestrator, executor and evaluator connected and wrote ~19 keys under the prefix while the
  // intake refused its API_KEYS; the demo said nothing of them, and the README that nothing was written.
  it('given --split and a variable one service refuses while the others start, then it exits 78, and says how to purge the keys they wrote under the KEY_PREFIX it was given', async () => {
    const demo = await demoUntilExit(['--split', '--schedules', ''], { ...(await env()), API_KEYS: 'ops:short:operator' });

    expect(demo.code).toBe(78);
    const output = demo.output.join('\n');
    expect(output).toContain('the secret is shorter than 16 characters');
    const redis = testRedisConnection('demo-system-exits-spec');
    try {
      expect(await countKeysByPrefix(redis, prefix)).toBeGreaterThan(0);
    } finally {
      await redis.quit();
    }
    expect(output).toContain(`KEY_PREFIX=${prefix} was given, so its keys stay in Redis; npm run replay -- purge --prefix ${prefix}`);
  }, 60_000);

  it('given a Redis the services cannot reach, then it exits 69 as they do, without trying half a minute to delete its keys there', async () => {
    const { KEY_PREFIX: _own, ...rest } = await env();
    const demo = await demoUntilExit(['--schedules', ''], {
      ...rest,
      REDIS_URL: `redis://127.0.0.1:${await findFreePort()}`,
      REDIS_STARTUP_TIMEOUT_MS: '1000',
    });

    expect(demo.code).toBe(69);
    const output = demo.output.join('\n');
    expect(output).toContain('cannot reach Redis');
    // It went on to delete its demo:<time>: keys on that Redis, failing after ioredis's 20 retries.
    expect(output).not.toMatch(/demo key\(s\)|Could not delete/);
  }, 60_000);

  // It went on to delete its keys there: "Could not delete the demo keys …: WRONGPASS …" after the
  // services' own refusal; and on a database the server lacks it scanned database 0 instead.
  it.each([
    ['credentials the server refuses', (url: string) => withUser(url, 'demo-system-exits-nobody', 'not-a-password'), 'WRONGPASS'],
    ['a database the server lacks', (url: string) => inDatabase(url, 99), 'has no database 99'],
  ])(
    'given %s, then it exits 78 as the services do, and does not try that Redis for its own keys',
    async (_case, redisUrlOf, named) => {
      const { KEY_PREFIX: _own, ...rest } = await env();
      const demo = await demoUntilExit(['--schedules', ''], { ...rest, REDIS_URL: redisUrlOf(redisUrl()) });

      expect(demo.code).toBe(78);
      const output = demo.output.join('\n');
      expect(output).toContain(named);
      expect(output).not.toMatch(/demo key\(s\)|Could not delete/);
    },
    60_000,
  );

  // The clean-up after it tried that Redis with ioredis's 20 retries: ~37 s, then "max retries" failed it.
  it('given Ctrl-C while the services wait for a Redis they cannot reach, then it exits 130 at once, without trying that Redis for its keys', async () => {
    const { KEY_PREFIX: _own, ...rest } = await env();
    const demo = spawn(process.execPath, [path.join('dist', 'scripts', 'demo.js'), '--schedules', ''], {
      cwd: ROOT,
      env: { ...rest, REDIS_URL: `redis://127.0.0.1:${await findFreePort()}`, REDIS_STARTUP_TIMEOUT_MS: '40000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collectLines(demo);
    const exited = once(demo, 'close').then(([code]) => code as number | null);
    try {
      await waitFor(async () => output.some((line) => line.includes('waiting for Redis')) || (demo.exitCode !== null ? 'exited' : undefined), {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: "the services' wait for Redis",
      });
      const interrupted = Date.now();
      demo.kill('SIGINT');

      expect(await exited).toBe(130);
      expect(Date.now() - interrupted).toBeLessThan(15_000);
      expect(output.join('\n')).not.toMatch(/demo key\(s\)|Could not delete|max retries/i);
    } finally {
      if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
    }
  }, 60_000);

  it('given a service killed once the system was ready, then it exits 1, and says how to purge the keys under the KEY_PREFIX it was given', async () => {
    const { dir, fixtures } = oneMissionFixtures('demo-system-exits-');
    const demo = spawn(process.execPath, [path.join('dist', 'scripts', 'demo.js'), '--fixtures', fixtures, '--schedules', ''], {
      cwd: ROOT,
      env: await env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collectLines(demo);
    const exited = once(demo, 'close').then(([code]) => code as number | null);
    const redis = testRedisConnection('demo-system-exits-spec');
    try {
      await waitFor(async () => output.some((line) => line.startsWith('Ready:')) || (demo.exitCode !== null ? 'exited' : undefined), {
        timeoutMs: 60_000,
        intervalMs: 50,
        what: "the demo's ready line",
      });
      const pid = Number(/Started one-process \(pid (\d+)\)/.exec(output.join('\n'))?.[1]);
      process.kill(pid, 'SIGKILL');

      expect(await exited).toBe(1);
      expect(output.join('\n')).toContain(`KEY_PREFIX=${prefix} was given, so its keys stay in Redis; npm run replay -- purge --prefix ${prefix}`);
    } finally {
      if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      await deleteKeysByPrefix(redis, prefix);
      await redis.quit();
    }
  }, 120_000);
});
