import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { waitFor } from '@app/testing';
import {
  describeRedis,
  findOnPath,
  LOCAL_REDIS_HOST,
  LOCAL_REDIS_PORT,
  pingRedis,
  redactUrl,
  redisTargetOf,
  resolveRedis,
  ResolvedRedis,
  ResolveRedisOptions,
  sendCommand,
} from './embedded-redis';
import { findFreePort } from './free-port';

/**
 * These tests start real servers, and redis-server is a prerequisite wherever they run (README, .ci/run):
 * without it they fail saying so rather than skip, so a missing binary never passes unnoticed.
 */
async function requireRedisServer(): Promise<string> {
  const binary = await findOnPath('redis-server');
  if (!binary) throw new Error("redis-server is not on PATH: install Debian's redis-server package (see the README's Quick start)");
  return binary;
}

/** A Redis answering on 127.0.0.1:6379: the one already there, else one of this test's own, stopped by the returned function. */
async function ensureLocalRedis(dir: string): Promise<() => Promise<void>> {
  if (await pingRedis(LOCAL_REDIS_HOST, LOCAL_REDIS_PORT, 500)) return async () => undefined;
  const binary = await requireRedisServer();
  const args = ['--dir', dir, '--save', '', '--appendonly', 'no', '--bind', LOCAL_REDIS_HOST, '--port', String(LOCAL_REDIS_PORT)];
  const server = spawn(binary, args, { stdio: 'ignore' });
  const exited = once(server, 'exit');
  await waitFor(() => pingRedis(LOCAL_REDIS_HOST, LOCAL_REDIS_PORT, 250), { timeoutMs: 10_000, what: 'a Redis of our own on 127.0.0.1:6379' });
  return async () => {
    server.kill('SIGTERM');
    await exited;
  };
}

/** The pids of the watchdogs (node -e, with the server's pid, port and grace as arguments) of the server on `port`. */
async function watchdogsOf(port: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = await readFile(`/proc/${entry}/cmdline`, 'utf8').then(
      (text) => text.split('\0'),
      () => [],
    );
    if (args[1] === '-e' && args[2]?.includes('redis-watchdog') && args[4] === port) pids.push(Number(entry));
  }
  return pids;
}

describe('resolveRedis', () => {
  let dataDir: string;
  let lines: string[];
  const started: ResolvedRedis[] = [];

  const base = (): ResolveRedisOptions => ({ dataDir, log: (line) => lines.push(line), env: {} });

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'embedded-redis-spec-'));
    lines = [];
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((redis) => redis.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('uses REDIS_URL when set, without probing anything', async () => {
    const ping = jest.fn(async () => true);
    const which = jest.fn(async () => '/usr/bin/redis-server');
    const redis = await resolveRedis({ ...base(), env: { REDIS_URL: 'redis://:secret@127.0.0.1:6390/2' }, ping, which });

    expect(redis).toMatchObject({ url: 'redis://:secret@127.0.0.1:6390/2', origin: 'env' });
    expect(ping).not.toHaveBeenCalled();
    expect(which).not.toHaveBeenCalled();
    expect(lines.join('\n')).not.toContain('secret');
    await expect(redis.stop()).resolves.toBeUndefined();
  });

  it('given REDIS_CLUSTER_NODES, then it names the cluster the services use, probing and starting nothing', async () => {
    const ping = jest.fn(async () => true);
    const which = jest.fn(async () => '/usr/bin/redis-server');
    const redis = await resolveRedis({ ...base(), env: { REDIS_CLUSTER_NODES: ' 127.0.0.1:23500,127.0.0.1:23501 ' }, ping, which });

    // It used to say it used the Redis on 127.0.0.1:6379, which the services never touched.
    expect(lines).toEqual(['Using the Redis Cluster from REDIS_CLUSTER_NODES (127.0.0.1:23500,127.0.0.1:23501)']);
    expect(redis).toMatchObject({ origin: 'cluster', clusterNodes: '127.0.0.1:23500,127.0.0.1:23501' });
    expect(describeRedis(redisTargetOf(redis))).toBe('Redis Cluster at 127.0.0.1:23500,127.0.0.1:23501');
    expect(ping).not.toHaveBeenCalled();
    expect(which).not.toHaveBeenCalled();
  });

  it('given a single server, then its description masks the password', () => {
    expect(describeRedis({ REDIS_URL: 'redis://:secret@127.0.0.1:6390/2' })).toBe('Redis at redis://***@127.0.0.1:6390/2');
  });

  it('finds the Redis running on 127.0.0.1:6379', async () => {
    const stopOurs = await ensureLocalRedis(dataDir);
    try {
      const which = jest.fn(async () => undefined);
      const redis = await resolveRedis({ ...base(), which });

      expect(redis).toMatchObject({ url: 'redis://127.0.0.1:6379', origin: 'local' });
      expect(which).not.toHaveBeenCalled();
      await redis.stop();
      await expect(pingRedis('127.0.0.1', 6379, 500)).resolves.toBe(true);
    } finally {
      await stopOurs();
    }
  });

  it('prefers local 6379 over starting a server when it answers', async () => {
    const ping = jest.fn(async (host: string, port: number) => host === '127.0.0.1' && port === 6379);
    const redis = await resolveRedis({ ...base(), ping, which: async () => undefined });

    expect(redis.origin).toBe('local');
    expect(ping).toHaveBeenCalledWith('127.0.0.1', 6379, 500);
  });

  it('starts a private redis-server when told to skip local, and stop() really stops it', async () => {
    await requireRedisServer();
    const redis = await resolveRedis({ ...base(), preferLocal: false });
    started.push(redis);

    expect(redis.origin).toBe('private');
    const { hostname, port } = new URL(redis.url);
    expect(hostname).toBe('127.0.0.1');
    expect(Number(port)).not.toBe(6379);
    await expect(pingRedis(hostname, Number(port), 500)).resolves.toBe(true);
    expect(existsSync(path.join(dataDir, 'redis', 'appendonlydir'))).toBe(true);

    await redis.stop();
    await expect(pingRedis(hostname, Number(port), 500)).resolves.toBe(false);
    await expect(redis.stop()).resolves.toBeUndefined();
  });

  it('watches a private server while it runs, and its watchdog ends with it', async () => {
    await requireRedisServer();
    const redis = await resolveRedis({ ...base(), preferLocal: false });
    started.push(redis);
    const port = new URL(redis.url).port;

    expect(await watchdogsOf(port)).toHaveLength(1);
    await redis.stop();
    await waitFor(async () => (await watchdogsOf(port)).length === 0, { timeoutMs: 5_000, what: 'the watchdog to end with its server' });
  });

  describe('given a redis-server an earlier start left running over the same data dir', () => {
    let leftover: ChildProcess | undefined;
    let leftoverPort: number;
    /** Stopped after each test, however far it got, so no server of its own outlives it. */
    let resolving: Promise<ResolvedRedis> | undefined;

    beforeEach(async () => {
      await requireRedisServer();
      leftoverPort = await findFreePort('127.0.0.1');
      const dir = path.join(dataDir, 'redis');
      await mkdir(dir, { recursive: true });
      const args = [
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--save',
        '',
        '--bind',
        '127.0.0.1',
        '--port',
        String(leftoverPort),
        '--pidfile',
        path.join(dir, 'redis-server.pid'),
      ];
      leftover = spawn('redis-server', args, { stdio: 'ignore' });
      await waitFor(() => pingRedis('127.0.0.1', leftoverPort, 250), { timeoutMs: 10_000, what: 'the leftover server to answer' });
    });

    afterEach(async () => {
      if (leftover?.exitCode === null && leftover.signalCode === null) leftover.kill('SIGKILL');
      await resolving?.then(
        (redis) => redis.stop(),
        () => undefined,
      );
      resolving = undefined;
    });

    it('then it starts its own only once that one has stopped, never two over the same files', async () => {
      const leftoverExited = once(leftover as ChildProcess, 'exit');
      let leftoverGone = false;
      void leftoverExited.then(() => (leftoverGone = true));
      resolving = resolveRedis({ ...base(), preferLocal: false });

      await waitFor(async () => lines.some((line) => line.includes(`127.0.0.1:${leftoverPort}) still uses`)), {
        timeoutMs: 5_000,
        what: 'the wait to be announced',
      });
      expect(lines.filter((line) => line.startsWith('Starting a private redis-server'))).toEqual([]);
      // As its watchdog would, once its owner died and its clients left.
      await sendCommand(leftoverPort, 'SHUTDOWN', 1_000);
      const redis = await resolving;

      expect(leftoverGone).toBe(true);
      expect(redis.origin).toBe('private');
      await expect(pingRedis('127.0.0.1', Number(new URL(redis.url).port), 500)).resolves.toBe(true);
    });

    it('then, when that one does not stop, it gives up naming it, and starts nothing', async () => {
      resolving = resolveRedis({ ...base(), preferLocal: false, previousServerTimeoutMs: 300 });

      await expect(resolving).rejects.toThrow(
        new RegExp(
          `redis-server with pid ${leftover?.pid} \\(127\\.0\\.0\\.1:${leftoverPort}\\) still uses .*REDIS_URL=redis://127\\.0\\.0\\.1:${leftoverPort}`,
        ),
      );
      expect(lines.filter((line) => line.startsWith('Starting a private redis-server'))).toEqual([]);
    });
  });

  it('starts at once when the pid file names a process that is not a redis-server', async () => {
    await requireRedisServer();
    await mkdir(path.join(dataDir, 'redis'), { recursive: true });
    await writeFile(path.join(dataDir, 'redis', 'redis-server.pid'), `${process.pid}\n`);
    const redis = await resolveRedis({ ...base(), preferLocal: false, previousServerTimeoutMs: 60_000 });
    started.push(redis);

    expect(lines.filter((line) => line.includes('still uses'))).toEqual([]);
    expect(redis.origin).toBe('private');
  });

  it('fails with a clear message when no binary exists and installing is not allowed', async () => {
    const install = jest.fn(async () => undefined);
    const attempt = resolveRedis({
      ...base(),
      allowInstall: false,
      ping: async () => false,
      which: async () => undefined,
      canInstall: () => true,
      install,
    });

    await expect(attempt).rejects.toThrow(/REDIS_URL.*127\.0\.0\.1:6379.*install redis-server/s);
    expect(install).not.toHaveBeenCalled();
  });

  it('fails with a clear message when no binary exists and this is not root on Debian', async () => {
    const install = jest.fn(async () => undefined);
    const attempt = resolveRedis({ ...base(), ping: async () => false, which: async () => undefined, canInstall: () => false, install });

    await expect(attempt).rejects.toThrow(/needs root on Debian.*REDIS_URL/s);
    expect(install).not.toHaveBeenCalled();
  });

  it('installs redis-server when missing and allowed, then starts it', async () => {
    const realBinary = await requireRedisServer();
    let installed = false;
    const install = jest.fn(async () => {
      installed = true;
    });
    const redis = await resolveRedis({
      ...base(),
      preferLocal: false,
      which: async () => (installed ? realBinary : undefined),
      canInstall: () => true,
      install,
    });
    started.push(redis);

    expect(install).toHaveBeenCalledTimes(1);
    expect(redis.origin).toBe('private');
    expect(lines.join('\n')).toMatch(/installing Debian's redis-server package/);
  });

  it('fails clearly when the install leaves no redis-server on PATH', async () => {
    const install = jest.fn(async () => undefined);
    const attempt = resolveRedis({ ...base(), ping: async () => false, which: async () => undefined, canInstall: () => true, install });

    await expect(attempt).rejects.toThrow(/still not on PATH/);
    expect(install).toHaveBeenCalledTimes(1);
  });

  it('reports the log tail when the private server cannot start', async () => {
    // A "binary" that prints like redis-server and exits stands in for a broken install.
    const fake = path.join(dataDir, 'fake-redis-server');
    await writeFile(fake, '#!/bin/sh\necho "FATAL CONFIG FILE ERROR (pretend)"\nexit 1\n', { mode: 0o755 });
    const attempt = resolveRedis({ ...base(), preferLocal: false, which: async () => fake });

    await expect(attempt).rejects.toThrow(/exited \(code 1.*FATAL CONFIG FILE ERROR \(pretend\)/s);
  });
});

describe('helpers', () => {
  it('redactUrl hides user-info and query, where ioredis reads a password too', () => {
    expect(redactUrl('redis://user:pw@127.0.0.1:6379/0')).toBe('redis://***@127.0.0.1:6379/0');
    // A working URL: the launcher named it whole in "Using Redis from REDIS_URL (…)" at every start.
    expect(redactUrl('redis://127.0.0.1:6379?password=s3cret')).toBe('redis://127.0.0.1:6379?***');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('findOnPath finds executables and ignores missing ones', async () => {
    await expect(findOnPath('sh', '/nonexistent:/bin:/usr/bin')).resolves.toMatch(/\/sh$/);
    await expect(findOnPath('definitely-not-a-binary-xyz', '/bin:/usr/bin')).resolves.toBeUndefined();
  });

  it('pingRedis says no, quickly, to a closed port', async () => {
    const started = Date.now();
    await expect(pingRedis('127.0.0.1', 1, 500)).resolves.toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
