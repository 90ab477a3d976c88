import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { findFreePort, resolveRedis, ResolvedRedis } from '@app/redis';
import { testKeyPrefix, waitFor } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { isAlive } from '../support/process-alive';

/**
 * A launcher as `npm start` and the demo are one, as a process of its own from dist/ (built here
 * when stale): it starts a private redis-server (not the shared 127.0.0.1:6379, which it would
 * otherwise prefer), launches a service against it, and is then killed outright, which no exit
 * hook of its own can answer.
 */
const ROOT = path.resolve(__dirname, '..', '..');

/** Plain JavaScript for `node -e`: the data dir and the evaluator's port come as arguments. */
const LAUNCHER = `
const [dataDir, port] = process.argv.slice(1);
const { resolveRedis } = require(${JSON.stringify(path.join(ROOT, 'dist', 'libs', 'redis', 'src'))});
const { launchSystem } = require(${JSON.stringify(path.join(ROOT, 'dist', 'scripts', 'launcher'))});
const log = (line) => process.stdout.write('launcher | ' + line + '\\n');
(async () => {
  const redis = await resolveRedis({ dataDir, log, preferLocal: false, env: { PATH: process.env.PATH } });
  await launchSystem({
    services: ['evaluator'],
    env: process.env,
    ports: { intake: 0, orchestrator: 0, executor: 0, evaluator: Number(port) },
    dataDir,
    rootDir: ${JSON.stringify(ROOT)},
    log,
    redis,
  });
  log('Redis at ' + redis.url);
})();
`;

describe('a private redis-server whose launcher is killed outright', () => {
  let dataDir: string;
  let launcher: ChildProcess | undefined;
  const pids: number[] = [];
  let restarted: ResolvedRedis | undefined;

  beforeAll(() => {
    expect(ensureBuilt(ROOT)).toBe(0);
  }, 180_000);

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'private-redis-owner-killed-'));
  });

  afterEach(async () => {
    if (launcher?.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
    for (const pid of pids.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await restarted?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('given kill -9 of the launcher, then the server shuts down once its service has gone, keeping its data', async () => {
    const lines: string[] = [];
    const child = spawn(process.execPath, ['-e', LAUNCHER, dataDir, String(await findFreePort())], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: '', KEY_PREFIX: testKeyPrefix('private-redis-owner-killed'), LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher = child;
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const exited = once(child, 'exit');

    const url = await waitFor(async () => /launcher \| Redis at (\S+)/.exec(lines.join('\n'))?.[1] ?? (child.exitCode !== null ? 'exited' : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the launcher to start Redis and the evaluator',
    });
    expect(url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const evaluatorPid = Number(/Started evaluator \(pid (\d+)\)/.exec(lines.join('\n'))?.[1]);
    pids.push(evaluatorPid);
    await waitFor(async () => lines.some((line) => line.includes('evaluator listening on port')), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the evaluator to listen',
    });
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    let redisPid: number;
    try {
      await client.connect();
      redisPid = Number(/^process_id:(\d+)/m.exec(await client.info('server'))?.[1]);
      pids.push(redisPid);
      await client.set('private-redis-owner-killed:written-before-the-kill', 'kept');
    } finally {
      client.disconnect();
    }

    child.kill('SIGKILL');
    await exited;

    // The evaluator's IPC channel closed with the launcher; it stops first, then Redis follows.
    await waitFor(async () => !isAlive(evaluatorPid) && !isAlive(redisPid), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the evaluator and the private redis-server to stop after their launcher died',
    });
    const log = readFileSync(path.join(dataDir, 'redis', 'redis-server.log'), 'utf8');
    expect(log).toContain(`redis-watchdog: the process that started redis-server ${redisPid} is gone; sending SHUTDOWN`);
    // A SHUTDOWN, which fsyncs the AOF, rather than a kill.
    expect(log).toMatch(/User requested shutdown[\s\S]*Redis is now ready to exit/);

    restarted = await resolveRedis({ dataDir, log: () => undefined, preferLocal: false, env: { PATH: process.env.PATH } });
    const reader = new Redis(restarted.url, { lazyConnect: true });
    try {
      expect(await reader.get('private-redis-owner-killed:written-before-the-kill')).toBe('kept');
    } finally {
      reader.disconnect();
    }
  });
});
