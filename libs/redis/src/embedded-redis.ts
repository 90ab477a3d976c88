import { ChildProcess, spawn } from 'node:child_process';
import { constants as fsConstants, existsSync } from 'node:fs';
import { access, mkdir, open, readFile, stat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { hideUrlSecrets } from '@app/config';
import { findFreePort } from './free-port';
import { PID_FILE, waitForPreviousRedisServer } from './previous-redis-server';
import { RedisTarget } from './redis-connection';
import { WATCHDOG_CLIENTS_GRACE_MS, watchOverRedis } from './redis-watchdog';
import { settlesWithin } from './settles-within';

/** Where the Redis URL came from; only `private` owns a process that stop() ends. */
export type RedisOrigin = 'cluster' | 'env' | 'local' | 'private';

export interface ResolvedRedis {
  url: string;
  /**
   * REDIS_CLUSTER_NODES, when set (origin `cluster`): the seeds every service connects to, which
   * then ignore `url` (REDIS_URL as given, or the default, handed on only to pass their checks).
   */
  clusterNodes?: string;
  origin: RedisOrigin;
  /** Idempotent. A no-op unless this call started the server. */
  stop(): Promise<void>;
}

export interface ResolveRedisOptions {
  /** A private server keeps its files in `<dataDir>/redis`, so data survives restarts. */
  dataDir: string;
  log: (line: string) => void;
  /** Allow `apt-get install redis-server` when the binary is missing (root on Debian only). Default true. */
  allowInstall?: boolean;
  /** Where REDIS_URL and PATH are read. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Use a Redis already answering on 127.0.0.1:6379. Default true; false forces a private server. */
  preferLocal?: boolean;
  /** How long a private server may take to answer PING (loading a large AOF counts). Default 15 s. */
  startupTimeoutMs?: number;
  /** A private server's port; default a free one. A test restarting a server passes its former port, where its clients reconnect. */
  port?: number;
  /**
   * How long a server an earlier start left running over the same data dir gets to stop before this
   * start gives up, naming it. Default: the watchdog's grace for clients, plus 5 s.
   */
  previousServerTimeoutMs?: number;
  /** Seams for tests: each defaults to the real thing. */
  which?: (binary: string) => Promise<string | undefined>;
  ping?: (host: string, port: number, timeoutMs: number) => Promise<boolean>;
  canInstall?: () => boolean;
  install?: (log: (line: string) => void) => Promise<void>;
}

export const LOCAL_REDIS_HOST = '127.0.0.1';
export const LOCAL_REDIS_PORT = 6379;
const LOCAL_PING_TIMEOUT_MS = 500;
const DEFAULT_STARTUP_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const PORT_CLASH_RETRIES = 3;
const APT_INSTALL_COMMAND = 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server';

export async function resolveRedis(options: ResolveRedisOptions): Promise<ResolvedRedis> {
  const env = options.env ?? process.env;
  const log = options.log;
  const ping = options.ping ?? pingRedis;
  const which = options.which ?? ((binary: string) => findOnPath(binary, env.PATH));

  const fromEnv = env.REDIS_URL?.trim();
  // The services use the cluster whatever REDIS_URL says, so neither it nor a local server is theirs.
  const clusterNodes = env.REDIS_CLUSTER_NODES?.trim();
  if (clusterNodes) {
    log(`Using the Redis Cluster from REDIS_CLUSTER_NODES (${clusterNodes})`);
    return { url: fromEnv || `redis://${LOCAL_REDIS_HOST}:${LOCAL_REDIS_PORT}`, clusterNodes, origin: 'cluster', stop: async () => undefined };
  }
  if (fromEnv) {
    log(`Using Redis from REDIS_URL (${redactUrl(fromEnv)})`);
    return { url: fromEnv, origin: 'env', stop: async () => undefined };
  }

  if (options.preferLocal !== false && (await ping(LOCAL_REDIS_HOST, LOCAL_REDIS_PORT, LOCAL_PING_TIMEOUT_MS))) {
    const url = `redis://${LOCAL_REDIS_HOST}:${LOCAL_REDIS_PORT}`;
    log(`Using the Redis already running at ${url}`);
    return { url, origin: 'local', stop: async () => undefined };
  }

  let binary = await which('redis-server');
  if (!binary) {
    const canInstall = options.canInstall ?? isDebianRoot;
    if (options.allowInstall === false || !canInstall()) throw noRedisError(options.allowInstall === false);
    log("No redis-server found; installing Debian's redis-server package (apt-get)…");
    await (options.install ?? aptInstallRedisServer)(log);
    binary = await which('redis-server');
    if (!binary) throw new Error('apt-get finished but redis-server is still not on PATH. ' + NO_REDIS_HINT);
  }

  return startPrivateRedis(binary, options.dataDir, log, ping, {
    startupTimeoutMs: options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS,
    previousServerTimeoutMs: options.previousServerTimeoutMs ?? WATCHDOG_CLIENTS_GRACE_MS + 5_000,
    port: options.port,
  });
}

const NO_REDIS_HINT =
  'Either set REDIS_URL (e.g. REDIS_URL=redis://127.0.0.1:6379), start Redis on 127.0.0.1:6379, ' +
  'or install redis-server (Debian/Ubuntu: apt-get install redis-server) so a private one can be started.';

function noRedisError(installDisallowed: boolean): Error {
  const why = installDisallowed ? 'automatic installation is disabled' : 'automatic installation needs root on Debian';
  return new Error(`No Redis available: REDIS_URL is not set, nothing answers on 127.0.0.1:6379, redis-server is not on PATH and ${why}. ${NO_REDIS_HINT}`);
}

/** The Redis the services connect to: the cluster when there is one, else the URL. */
export function redisTargetOf(redis: ResolvedRedis): RedisTarget {
  return { REDIS_URL: redis.url, REDIS_CLUSTER_NODES: redis.clusterNodes };
}

/** How the launcher's lines name the Redis the services use: the cluster's seeds, or the URL without its password. */
export function describeRedis(target: RedisTarget): string {
  const nodes = target.REDIS_CLUSTER_NODES?.trim();
  return nodes ? `Redis Cluster at ${nodes}` : `Redis at ${redactUrl(target.REDIS_URL)}`;
}

/** Logs must not leak a password embedded in REDIS_URL, in its user-info or its query (`?password=`, which ioredis reads). */
export function redactUrl(url: string): string {
  try {
    new URL(url);
  } catch {
    return '<unparseable URL>';
  }
  return hideUrlSecrets(url);
}

/**
 * A raw inline PING rather than ioredis, so a dead or foreign port costs one bounded attempt
 * instead of a reconnect loop. Anything but +PONG (NOAUTH, LOADING, another protocol) counts as "no".
 */
export function pingRedis(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = '';
    let settled = false;
    const socket = createConnection({ host, port });
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

export async function findOnPath(binary: string, searchPath: string | undefined = process.env.PATH): Promise<string | undefined> {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, binary);
    try {
      await access(candidate, fsConstants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

function isDebianRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0 && existsSync('/etc/debian_version');
}

async function aptInstallRedisServer(log: (line: string) => void): Promise<void> {
  const child = spawn('sh', ['-c', APT_INSTALL_COMMAND], { stdio: ['ignore', 'pipe', 'pipe'] });
  forwardLines(child, (line) => log(`apt-get: ${line}`));
  const { code, signal } = await waitForExit(child);
  if (code !== 0) {
    throw new Error(`Installing redis-server failed (${signal ? `signal ${signal}` : `exit code ${code}`}). ${NO_REDIS_HINT}`);
  }
}

function forwardLines(child: ChildProcess, sink: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', sink);
  }
}

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function waitForExit(child: ChildProcess): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', reject);
  });
}

async function startPrivateRedis(
  binary: string,
  dataDir: string,
  log: (line: string) => void,
  ping: (host: string, port: number, timeoutMs: number) => Promise<boolean>,
  { startupTimeoutMs, previousServerTimeoutMs, port: fixedPort }: { startupTimeoutMs: number; previousServerTimeoutMs: number; port?: number },
): Promise<ResolvedRedis> {
  const dir = path.resolve(dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const logFile = path.join(dir, 'redis-server.log');
  await waitForPreviousRedisServer(dir, log, previousServerTimeoutMs);

  for (let attempt = 1; ; attempt++) {
    // The tiny window before redis-server binds is covered by retrying.
    const port = fixedPort ?? (await findFreePort(LOCAL_REDIS_HOST));
    const logStart = await fileSize(logFile);
    log(`Starting a private redis-server on ${LOCAL_REDIS_HOST}:${port} (data in ${dir}, log in ${logFile})`);
    const child = await spawnRedisServer(binary, dir, port, logFile);
    const outcome = await waitUntilReady(child, port, ping, startupTimeoutMs);
    if (outcome === 'ready') return privateHandle(child, port, log);

    const tail = await logTail(logFile, logStart);
    await killAndWait(child);
    // A port asked for is that one or none: another would lose the clients that wait for it.
    if (outcome === 'exited' && /address already in use/i.test(tail) && attempt < PORT_CLASH_RETRIES && fixedPort === undefined) {
      log(`Port ${port} was taken before redis-server could bind it; retrying on another port`);
      continue;
    }
    const what = outcome === 'exited' ? `exited (code ${child.exitCode}, signal ${child.signalCode})` : `did not answer PING within ${startupTimeoutMs} ms`;
    throw new Error(`Private redis-server on port ${port} ${what}. Last lines of ${logFile}:\n${tail || '(empty)'}`);
  }
}

async function spawnRedisServer(binary: string, dir: string, port: number, logFile: string): Promise<ChildProcess> {
  // The log goes to a file rather than a pipe so startup errors (printed before --logfile would apply)
  // are kept, and so the server never blocks on a pipe nobody drains.
  const handle = await open(logFile, 'a');
  try {
    const args = [
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--bind',
      LOCAL_REDIS_HOST,
      '--port',
      String(port),
      '--daemonize',
      'no',
      // So that the next start sees a server still running over these files (previous-redis-server.ts).
      '--pidfile',
      path.join(dir, PID_FILE),
    ];
    // Its own process group, so a terminal Ctrl-C reaches only our launcher, which stops the
    // services first and Redis last instead of pulling Redis away from services still shutting down.
    const child = spawn(binary, args, { cwd: dir, detached: true, stdio: ['ignore', handle.fd, handle.fd] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    // Must not keep a test runner or CLI alive on its own; the watchdog covers forgotten stops.
    child.unref();
    // Before the wait for PING, which loading a large AOF makes long: an owner killed meanwhile leaves no server behind.
    await watchOverRedis(child, port, handle.fd).catch(async (error: unknown) => {
      await killAndWait(child);
      throw error;
    });
    return child;
  } finally {
    await handle.close();
  }
}

async function waitUntilReady(
  child: ChildProcess,
  port: number,
  ping: (host: string, port: number, timeoutMs: number) => Promise<boolean>,
  timeoutMs: number,
): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    if (await ping(LOCAL_REDIS_HOST, port, 250)) return 'ready';
    await sleep(50);
  }
  return 'timeout';
}

function privateHandle(child: ChildProcess, port: number, log: (line: string) => void): ResolvedRedis {
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      log(`Stopping the private redis-server on port ${port}`);
      const exited = waitForExit(child);
      // SHUTDOWN NOSAVE skips the RDB snapshot but still fsyncs the AOF, which is where our data lives.
      await sendCommand(port, 'SHUTDOWN NOSAVE', 1_000);
      if (await settlesWithin(exited, STOP_GRACE_MS)) return;
      child.kill('SIGTERM');
      if (await settlesWithin(exited, STOP_GRACE_MS)) return;
      child.kill('SIGKILL');
      await exited;
    })();
    return stopping;
  };
  return { url: `redis://${LOCAL_REDIS_HOST}:${port}`, origin: 'private', stop };
}

/** Fire-and-forget: SHUTDOWN closes the connection without a reply, so success is judged by the process exiting. */
export function sendCommand(port: number, command: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: LOCAL_REDIS_HOST, port });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('connect', () => socket.end(`${command}\r\n`));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = waitForExit(child);
  child.kill('SIGTERM');
  if (!(await settlesWithin(exited, STOP_GRACE_MS))) {
    child.kill('SIGKILL');
    await exited;
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** Only what this attempt wrote: the log file is shared by every start in the same data dir. */
export async function logTail(file: string, fromByte: number, lines = 20): Promise<string> {
  try {
    const text = (await readFile(file)).subarray(fromByte).toString('utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
