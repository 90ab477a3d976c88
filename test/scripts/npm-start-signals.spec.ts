import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { findFreePort, portIsFree } from '@app/redis';
import { deleteKeysByPrefix, redisUrl, testKeyPrefix, testRedisConnection, waitFor } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { isAlive } from '../support/process-alive';

/**
 * `npm start` as a supervisor runs it: the supervisor knows npm's pid only, and signals that. npm
 * forwards SIGTERM to the child it spawned, so that child has to be the launcher, not an `sh -c`
 * that ignores it and leaves the launcher and its services running, orphaned, holding the ports.
 */
const ROOT = path.resolve(__dirname, '..', '..');

/** The parent of a process: the service's parent is the launcher, whatever ran between npm and it. */
function parentPid(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
}

describe('npm start under a supervisor that signals npm only', () => {
  const redis = testRedisConnection('npm-start-signals-spec');
  const prefix = testKeyPrefix('npm-start-signals');
  /** Every process this spec started or found started for it, for afterEach to kill if it outlived the test. */
  const started: number[] = [];
  let npm: ChildProcess | undefined;

  beforeAll(() => {
    expect(ensureBuilt(ROOT)).toBe(0);
  }, 300_000);

  afterEach(() => {
    if (npm && npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    for (const pid of started.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given npm run start:intake is ready, when npm alone gets SIGTERM, then the launcher and the intake stop, the port is freed and npm exits 0', async () => {
    const port = await findFreePort();
    // start:intake is `npm start`'s shape (build-stamp ensure, then the launcher) with the fewest processes.
    const child = spawn('npm', ['run', '--silent', 'start:intake'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), REDIS_URL: redisUrl(), KEY_PREFIX: prefix, npm_config_update_notifier: 'false' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    npm = child;
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));

    const intakePid = await waitFor(
      async () => {
        const match = output.includes('Ready:') ? /Started intake \(pid (\d+)\)/.exec(output) : null;
        return match ? Number(match[1]) : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'the ready line of npm run start:intake' },
    );
    const launcherPid = parentPid(intakePid);
    started.push(intakePid, launcherPid);

    child.kill('SIGTERM');
    const [code, signal] = await exited;

    // npm exits only after its child, the launcher, has: once npm is gone, so must the rest be.
    expect({ launcher: isAlive(launcherPid), intake: isAlive(intakePid) }).toEqual({ launcher: false, intake: false });
    expect(await portIsFree(port)).toBe(true);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  }, 90_000);
});
