import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { resolveRedis, ResolvedRedis } from '../libs/redis/src/embedded-redis';

export const SERVICE_NAMES = ['intake', 'orchestrator', 'executor', 'evaluator'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

export interface LaunchOptions {
  services: ServiceName[];
  env: NodeJS.ProcessEnv;
  dataDir: string;
  log: (line: string) => void;
  /** Where prefixed service output goes. Default process.stdout. */
  output?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Default: only when output is a TTY and NO_COLOR is unset. */
  color?: boolean;
  /** Default: two levels above this file, which runs from dist/scripts. */
  rootDir?: string;
  /** How long services get to shut down after SIGTERM before SIGKILL. Default 10 s. */
  stopTimeoutMs?: number;
  /** Laid over `env` for one service, e.g. its own PORT; REDIS_URL stays the resolved one so all share a Redis. */
  serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
}

export interface RunningSystem {
  redisUrl: string;
  /** Idempotent: services first (SIGTERM, then SIGKILL after the timeout), then a private Redis. */
  stop(): Promise<void>;
  /** 0 after stop(); non-zero when a service died on its own (the rest are stopped by then). */
  exited: Promise<number>;
}

const PREFIX_WIDTH = Math.max(...SERVICE_NAMES.map((name) => name.length));
const COLORS: Record<ServiceName, number> = { intake: 36, orchestrator: 35, executor: 33, evaluator: 32 };

/** Padded so the `|` columns line up; shared with the CLI so its own lines match. */
export function linePrefix(name: string, color: boolean, colorCode = 90): string {
  const label = name.padEnd(PREFIX_WIDTH);
  return color ? `\u001b[${colorCode}m${label} |\u001b[0m ` : `${label} | `;
}

interface Service {
  name: ServiceName;
  child: ChildProcess;
  exit: Promise<void>;
}

export async function launchSystem(options: LaunchOptions): Promise<RunningSystem> {
  const rootDir = options.rootDir ?? path.resolve(__dirname, '..', '..');
  const output = options.output ?? process.stdout;
  const color = options.color ?? (Boolean(output.isTTY) && !options.env.NO_COLOR);
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const log = options.log;

  const services = [...new Set(options.services)];
  if (services.length === 0) throw new Error('No services to launch');
  const entries = services.map((name) => ({ name, entry: path.join(rootDir, 'dist', 'apps', name, 'src', 'main.js') }));
  // Checked before Redis is resolved, so a missing build costs no server start.
  const missing = entries.filter(({ entry }) => !existsSync(entry));
  if (missing.length > 0) {
    throw new Error(`Not built: ${missing.map(({ entry }) => path.relative(rootDir, entry)).join(', ')}. Run \`npm run build\` first.`);
  }

  const redis: ResolvedRedis = await resolveRedis({ dataDir: options.dataDir, log, allowInstall: true, env: options.env });
  const env: NodeJS.ProcessEnv = { ...options.env, REDIS_URL: redis.url };

  let stopping: Promise<void> | undefined;
  let resolveExited: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (resolveExited = resolve));
  const running: Service[] = [];

  // Services sit in their own process groups (below), so if the launcher dies without stop() they would linger.
  const killOnExit = () => {
    for (const { child } of running) if (isAlive(child)) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const shutdown = (code: number): Promise<void> => {
    stopping ??= (async () => {
      const alive = running.filter(({ child }) => isAlive(child));
      if (alive.length > 0) log(`Stopping ${alive.map(({ name }) => name).join(', ')}`);
      for (const { child } of alive) child.kill('SIGTERM');
      const allExited = Promise.all(running.map(({ exit }) => exit));
      if (!(await settlesWithin(allExited, stopTimeoutMs))) {
        const stuck = alive.filter(({ child }) => isAlive(child));
        log(`Still running after ${stopTimeoutMs} ms, killing: ${stuck.map(({ name }) => name).join(', ')}`);
        for (const { child } of stuck) child.kill('SIGKILL');
        await allExited;
      }
      process.removeListener('exit', killOnExit);
      try {
        await redis.stop();
      } finally {
        resolveExited(code);
      }
    })();
    return stopping;
  };

  try {
    for (const { name, entry } of entries) {
      // Detached: Ctrl-C in a terminal reaches only the launcher, which then stops services in order
      // and keeps Redis up until they are done, instead of everything dying at once.
      const childEnv: NodeJS.ProcessEnv = { ...env, ...options.serviceEnv?.[name], REDIS_URL: redis.url };
      const child = spawn(process.execPath, [entry], { cwd: rootDir, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const prefix = linePrefix(name, color, COLORS[name]);
      for (const stream of [child.stdout, child.stderr]) {
        if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => output.write(`${prefix}${line}\n`));
      }
      const exit = new Promise<void>((resolve) => {
        // 'close' comes after the last output line; the bound covers a grandchild still holding the pipes.
        child.once('close', () => resolve());
        child.once('exit', (code, signal) => {
          if (!stopping) {
            log(`${name} exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`}); stopping the rest`);
            void shutdown(code || 1);
          }
          setTimeout(resolve, 500).unref();
        });
        // 'exit' may never follow a failed spawn, so this settles the service too.
        child.once('error', (error) => {
          log(`${name} failed: ${error.message}`);
          if (!stopping) void shutdown(1);
          resolve();
        });
      });
      running.push({ name, child, exit });
      log(`Started ${name} (pid ${child.pid})`);
    }
  } catch (error) {
    await shutdown(1);
    throw error;
  }

  return { redisUrl: redis.url, stop: () => shutdown(0), exited };
}

function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
