import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, Environment, EXIT_CONFIG, loadEnvironment } from '@app/config';
import { SERVICE_NAMES, ServiceName } from '@app/messages';
import { redisTargetOf, RedisTarget, resolveRedis, ResolvedRedis, settlesWithin } from '@app/redis';
import { CONNECTOR_ODOO, CONNECTOR_PORT_VARIABLE, connectorPort, deadlineSignal, isListeningMessage, PORT_VARIABLES, servicePorts } from '@app/runtime';

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

/**
 * The variables of the services' configuration (libs/config) that npm start refuses itself, by the
 * services' rules, before it starts anything: a bad one is a ConfigError, exit 78. Its --help and
 * the README name these (launcherCheckedVariables), so the list is this one.
 */
export const LAUNCHER_CONFIG_VARIABLES = ['KEY_PREFIX', 'LOG_FORMAT', 'REDIS_URL', 'REDIS_CLUSTER_NODES'] as const satisfies readonly (keyof Environment)[];
type LauncherConfigVariable = (typeof LAUNCHER_CONFIG_VARIABLES)[number];

/**
 * `names` as the launcher hands them on to the services: trimmed and blank as unset (resolveRedis
 * and childLogFormat pass the trimmed value), except KEY_PREFIX, which the services take as it is.
 */
function asHandedOn(env: NodeJS.ProcessEnv, names: readonly LauncherConfigVariable[]): NodeJS.ProcessEnv {
  return Object.fromEntries(names.map((name) => [name, name === 'KEY_PREFIX' ? env[name] : env[name]?.trim()]));
}

/**
 * Refuses, every problem at once, what the services would refuse of LAUNCHER_CONFIG_VARIABLES (a
 * ConfigError, exit 78), and gives them as the services read them (KEY_PREFIX for the launcher's line).
 */
export function checkLauncherVariables(env: NodeJS.ProcessEnv): Environment {
  return loadEnvironment(asHandedOn(env, LAUNCHER_CONFIG_VARIABLES));
}

/**
 * Every variable npm start refuses itself with exit 78: the port variables (servicePorts, and
 * CONNECTOR_PORT when ODOO_URL runs the connector: connectorPort) and LAUNCHER_CONFIG_VARIABLES.
 */
export function launcherCheckedVariables(): string[] {
  return [...SERVICE_NAMES.map((name) => PORT_VARIABLES[name]), CONNECTOR_PORT_VARIABLE, ...LAUNCHER_CONFIG_VARIABLES];
}

/** npm start's exit codes, as its --help gives them. */
export function startExitCodesHelp(): string {
  const variables = launcherCheckedVariables().map((name) => (name === CONNECTOR_PORT_VARIABLE ? `${name} with ODOO_URL set` : name));
  const text =
    'Exit codes: 0 stopped by Ctrl-C, SIGTERM or SIGHUP; 2 bad usage (an unknown option or service, a service named twice, --split with --one-process); ' +
    `78 a bad variable, before anything starts (${variables.join(', ')}); otherwise the code of the service that ended the run ` +
    '(1 could not listen or crashed, or a signal killed it; 69 Redis unreachable; 78 its configuration), once it has stopped the rest; ' +
    '1 too when the launcher itself fails (not built, no Redis to be had).';
  return `\n${wrapWords(text, 100)}`;
}

/** `text` in lines of at most `width` characters, broken between words (a longer word alone on its line). */
function wrapWords(text: string, width: number): string {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.join('\n');
}

/**
 * The children's output goes through a pipe, so each would pick JSON logs; the launcher knows
 * whether a person watches and passes that on, unless LOG_FORMAT says otherwise. A LOG_FORMAT the
 * services would refuse is a ConfigError here too (the config lib's rule and message: exit 78),
 * not quietly replaced.
 */
export function childLogFormat(env: NodeJS.ProcessEnv, outputIsTerminal: boolean): 'json' | 'pretty' {
  const chosen = loadEnvironment(asHandedOn(env, ['LOG_FORMAT'])).LOG_FORMAT;
  return chosen ?? (outputIsTerminal ? 'pretty' : 'json');
}

/**
 * Refuses a REDIS_URL or REDIS_CLUSTER_NODES the services would refuse, by the config lib's rules
 * and message (a ConfigError, exit 78), before a Redis is resolved: else the launcher would say it
 * uses `<unparseable URL>` and start services that each stop on it.
 */
export function checkRedisVariables(env: NodeJS.ProcessEnv): void {
  loadEnvironment(asHandedOn(env, ['REDIS_URL', 'REDIS_CLUSTER_NODES']));
}

/**
 * The launcher's line for a process that ended on its own and is not restarted. A configuration
 * error (exit 78) is no surprise: the process said why just above. "The rest" only when there is a rest.
 */
export function unplannedExitMessage(name: string, code: number | null, signal: NodeJS.Signals | null, others: boolean): string {
  const what =
    code === EXIT_CONFIG
      ? `stopped: configuration error (exit ${EXIT_CONFIG}), see above`
      : `exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`})`;
  return others ? `${name} ${what}; stopping the rest` : `${name} ${what}`;
}

/**
 * How this machine reaches the services in a URL: LISTEN_HOST when it names one address (an IPv6
 * one in brackets), else `fallback` (the services listen on every interface).
 */
export function localHostFor(listenHost: string | undefined, fallback: string): string {
  const host = listenHost?.trim();
  if (!host || host === '0.0.0.0' || host === '::') return fallback;
  return isIPv6(host) ? `[${host}]` : host;
}

/**
 * The base URL the launcher and the scripts that launch (the demo, the bench) reach a service on
 * `port` at: the address LISTEN_HOST names, else 127.0.0.1, which listening on every interface
 * includes. A service bound to one address (::1, 127.0.0.2) answers there alone.
 */
export function serviceUrl(listenHost: string | undefined, port: number): string {
  return `http://${localHostFor(listenHost, '127.0.0.1')}:${port}`;
}

/** The line printed once every service is ready: the API, its docs and the console, and which key to send (API_KEYS, or the local operator key's file). */
export function readyMessage(ports: Record<ServiceName, number>, services: readonly ServiceName[], env: NodeJS.ProcessEnv, keyFile: string): string {
  if (!services.includes('intake')) return `Ready: ${services.map((name) => `${name} on port ${ports[name]}`).join(', ')}`;
  const base = `http://${localHostFor(env.LISTEN_HOST, 'localhost')}:${ports.intake}`;
  const key = env.API_KEYS?.trim() ? 'one of API_KEYS' : `the operator key in ${keyFile}`;
  return `Ready: API ${base}/api, docs ${base}/docs, console ${base}/console/; send Authorization: Bearer <key> with ${key}`;
}

/** How long the services get to be ready at least; more when REDIS_STARTUP_TIMEOUT_MS is longer (readyTimeoutMs). */
const READY_TIMEOUT_MS = 60_000;
/** What the services may take to be ready once their wait for Redis is over: the wait's default leaves this much of READY_TIMEOUT_MS. */
const READY_AFTER_REDIS_MS = 30_000;

/**
 * How long `npm start`, the demo and the bench wait for the services to be ready: past their own
 * wait for Redis (REDIS_STARTUP_TIMEOUT_MS, read as they validate it) with time to start after it,
 * so that a Redis they cannot reach ends with their 69, not with a "not ready after 60 s" of the
 * caller's own. A value they refuse is theirs to report (78); the caller then waits as for the default.
 */
export function readyTimeoutMs(env: NodeJS.ProcessEnv): number {
  let redisWaitMs: number;
  try {
    redisWaitMs = loadEnvironment({ REDIS_STARTUP_TIMEOUT_MS: env.REDIS_STARTUP_TIMEOUT_MS }).REDIS_STARTUP_TIMEOUT_MS;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    redisWaitMs = new Environment().REDIS_STARTUP_TIMEOUT_MS;
  }
  return Math.max(READY_TIMEOUT_MS, redisWaitMs + READY_AFTER_REDIS_MS);
}

/**
 * Resolves once every service has said it listens (`listening`, from its own child: another process
 * on the port would answer the health check too) and answers 200 on /health/ready; rejects after
 * `timeoutMs` (naming the services still not ready and the last problem) or when `signal` aborts.
 */
export async function waitUntilReady(
  ports: Partial<Record<ServiceName, number>>,
  options: { listening: ReadonlySet<ServiceName>; timeoutMs: number; signal: AbortSignal; intervalMs?: number; listenHost?: string },
): Promise<void> {
  const until = Date.now() + options.timeoutMs;
  const pending = new Map(Object.entries(ports).map(([name, port]) => [name as ServiceName, `${serviceUrl(options.listenHost, port)}/health/ready`]));
  let lastProblem = '';
  for (;;) {
    for (const [name, healthUrl] of [...pending]) {
      options.signal.throwIfAborted();
      if (!options.listening.has(name)) {
        lastProblem = `${name}: not listening yet`;
        continue;
      }
      const deadline = deadlineSignal(5_000, options.signal);
      try {
        const response = await fetch(healthUrl, { signal: deadline.signal });
        await response.arrayBuffer();
        if (response.status === 200) pending.delete(name);
        else lastProblem = `${name}: HTTP ${response.status}`;
      } catch (error) {
        options.signal.throwIfAborted();
        lastProblem = `${name}: ${error instanceof Error ? error.message : String(error)}`;
      } finally {
        deadline.clear();
      }
    }
    if (pending.size === 0) return;
    if (Date.now() > until) throw new Error(`not ready after ${options.timeoutMs / 1000} s: ${[...pending.keys()].join(', ')} (last: ${lastProblem})`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, options.intervalMs ?? 250);
      function done() {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', done);
        resolve();
      }
      options.signal.addEventListener('abort', done, { once: true });
    });
  }
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
  /** Laid over `env` for one service; REDIS_URL stays the resolved one so all share a Redis. */
  serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  /** Each service's PORT. Default: servicePorts(env). */
  ports?: Record<ServiceName, number>;
  /** The Odoo connector's PORT, when ODOO_URL starts it. Default: connectorPort(env, ports): CONNECTOR_PORT, else the port after the last service's. */
  connectorPort?: number;
  /** Pretty (human) logs from the services. Default: when output is a TTY; LOG_FORMAT in env wins either way. */
  pretty?: boolean;
  /**
   * All four services in one Node process (dist/scripts/one-process.js), still over Redis Streams,
   * each on its own port; their `serviceEnv` are laid over `env` together. Needs all four services.
   */
  oneProcess?: boolean;
  /** A Redis the caller resolved and stops itself (the demo): used as it is, neither resolved again nor stopped here. */
  redis?: ResolvedRedis;
  /**
   * Separate processes only (not `oneProcess`): a service (or the Odoo connector) that exits on its
   * own once it has listened is started again after a backoff, until it fails `failures` times
   * within `windowMs` (see RestartPolicy). Unset: any process exiting on its own stops the rest
   * (the demo, the bench).
   */
  restart?: RestartPolicy;
}

/**
 * When the launcher starts a service (or the Odoo connector) again that exited on its own
 * (`npm start -- --split`). A process that exits before it has ever said it listens (a bad
 * variable, a port in use at start) is never restarted: the start fails as a whole. Once it has
 * listened, each exit the launcher did not ask for (a crash, `kill -9`, even a SIGTERM from someone
 * else) is a failure: the n-th failure within `windowMs` waits `min(firstDelayMs × 2^(n−1),
 * maxDelayMs)` before the restart, and the `failures`-th gives up: the rest are stopped and the
 * launcher exits with the process' code.
 */
export interface RestartPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  failures: number;
  windowMs: number;
}

/** `npm start -- --split`: restarts after 1, 2, 4, 8 s; the fifth failure within a minute gives up (a crash loop). */
export const DEFAULT_RESTART_POLICY: RestartPolicy = { firstDelayMs: 1_000, maxDelayMs: 15_000, failures: 5, windowMs: 60_000 };

/** The wait before restarting a service after the `failure`-th failure (1-based) within the window. */
export function restartDelayMs(policy: RestartPolicy, failure: number): number {
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.max(0, failure - 1));
}

export interface RunningSystem {
  /** The Redis the services use: a cluster's seeds when REDIS_CLUSTER_NODES is set. */
  redis: RedisTarget;
  ports: Record<ServiceName, number>;
  /** The services whose own child said it listens on its port (waitUntilReady). */
  listening: ReadonlySet<ServiceName>;
  /** Idempotent: services first (SIGTERM, then SIGKILL after the timeout), then a private Redis. */
  stop(): Promise<void>;
  /** 0 after stop(); non-zero when a service died on its own and is not restarted (the rest are stopped by then): its exit code, 1 for a signal. */
  exited: Promise<number>;
}

const PREFIX_WIDTH = Math.max(...SERVICE_NAMES.map((name) => name.length));
const COLORS: Record<ServiceName, number> = { intake: 36, orchestrator: 35, executor: 33, evaluator: 32 };

/** Padded so the `|` columns line up; shared with the CLI so its own lines match. */
export function linePrefix(name: string, color: boolean, colorCode = 90): string {
  const label = name.padEnd(PREFIX_WIDTH);
  return color ? `\u001b[${colorCode}m${label} |\u001b[0m ` : `${label} | `;
}

/** The one process that runs every service, as the launcher names it in its lines. */
export const ONE_PROCESS = 'one-process';

interface Service {
  /** CONNECTOR_ODOO: the Odoo connector, a process of its own beside the services (in one process too) when ODOO_URL is set. */
  name: ServiceName | typeof ONE_PROCESS | typeof CONNECTOR_ODOO;
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
  const ports = options.ports ?? servicePorts(options.env);
  const logFormat = childLogFormat(options.env, options.pretty ?? Boolean(output.isTTY));
  if (options.oneProcess && services.length !== SERVICE_NAMES.length) throw new Error('one-process mode runs all four services');
  const entries: { name: Service['name']; entry: string; env: NodeJS.ProcessEnv }[] = options.oneProcess
    ? [
        {
          name: ONE_PROCESS,
          entry: path.join(rootDir, 'dist', 'scripts', 'one-process.js'),
          env: Object.assign(
            {},
            ...SERVICE_NAMES.map((name) => options.serviceEnv?.[name] ?? {}),
            ...SERVICE_NAMES.map((name) => ({ [PORT_VARIABLES[name]]: String(ports[name]) })),
          ),
        },
      ]
    : services.map((name) => ({
        name,
        entry: path.join(rootDir, 'dist', 'apps', name, 'src', 'main.js'),
        env: { ...options.serviceEnv?.[name], PORT: String(ports[name]), PORT_VARIABLE: PORT_VARIABLES[name] },
      }));
  // With the whole system; on CONNECTOR_PORT, by default the port after the last service's (3004 by default).
  if (options.env.ODOO_URL?.trim() && services.length === SERVICE_NAMES.length) {
    entries.push({
      name: CONNECTOR_ODOO,
      entry: path.join(rootDir, 'dist', 'apps', CONNECTOR_ODOO, 'src', 'main.js'),
      env: { PORT: String(options.connectorPort ?? connectorPort(options.env, ports)), PORT_VARIABLE: CONNECTOR_PORT_VARIABLE },
    });
  }
  // Checked before Redis is resolved, so a missing build costs no server start.
  const missing = entries.filter(({ entry }) => !existsSync(entry));
  if (missing.length > 0) {
    throw new Error(`Not built: ${missing.map(({ entry }) => path.relative(rootDir, entry)).join(', ')}. Run \`npm run build\` first.`);
  }

  if (!options.redis) checkRedisVariables(options.env);
  const redis: ResolvedRedis = options.redis
    ? { ...options.redis, stop: async () => undefined }
    : await resolveRedis({ dataDir: options.dataDir, log, allowInstall: true, env: options.env });
  const env: NodeJS.ProcessEnv = { ...options.env, REDIS_URL: redis.url };

  let stopping: Promise<void> | undefined;
  let resolveExited: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (resolveExited = resolve));
  // Each entry's current process; a restart replaces it.
  const running: Service[] = [];
  const listening = new Set<ServiceName>();
  const restartTimers = new Set<NodeJS.Timeout>();
  const restartPolicy = options.oneProcess ? undefined : options.restart;

  // Services sit in their own process groups (below), so if the launcher dies without stop() they would linger.
  const killOnExit = () => {
    for (const { child } of running) if (isAlive(child)) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const shutdown = (code: number): Promise<void> => {
    stopping ??= (async () => {
      for (const timer of restartTimers) clearTimeout(timer);
      restartTimers.clear();
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

  /** Starts entry `index` (again, for a restart), as running[index]; `failures`: the times it exited on its own, for the restart policy. */
  const start = (index: number, failures: number[]): void => {
    const { name, entry, env: ownEnv } = entries[index];
    // Detached: Ctrl-C in a terminal reaches only the launcher, which then stops services in order
    // and keeps Redis up until they are done, instead of everything dying at once.
    const childEnv: NodeJS.ProcessEnv = {
      ...env,
      LOG_FORMAT: logFormat,
      // pino-pretty colours only on a terminal, which the child's pipe is not.
      ...(logFormat === 'pretty' && color ? { FORCE_COLOR: '1' } : {}),
      ...ownEnv,
      REDIS_URL: redis.url,
    };
    const restarted = failures.length > 0;
    let listened = false;
    // The IPC channel carries each process' word that it listens, under its own name; the one
    // process speaks for the services it runs.
    const speaksFor: readonly string[] = name === ONE_PROCESS ? SERVICE_NAMES : [name];
    const child = spawn(process.execPath, [entry], { cwd: rootDir, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    child.on('message', (message) => {
      if (!isListeningMessage(message, speaksFor)) return;
      // The connector counts for its restarts, not for the services' readiness (waitUntilReady).
      if (isServiceName(message.service)) listening.add(message.service);
      if (!listened && restarted) log(`${name} is back (pid ${child.pid})`);
      listened = true;
    });
    const prefix = linePrefix(name, color, isServiceName(name) ? COLORS[name] : undefined);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => output.write(`${prefix}${line}\n`));
    }
    const exit = new Promise<void>((resolve) => {
      // 'close' comes after the last output line; the bound covers a grandchild still holding the pipes.
      child.once('close', () => resolve());
      child.once('exit', (code, signal) => {
        setTimeout(resolve, 500).unref();
        if (stopping) return;
        if (isServiceName(name)) listening.delete(name);
        const how = signal ? `signal ${signal}` : `code ${code}`;
        // Never restarted: one in one process, or that never listened the first time (a bad variable, a port in use).
        if (!restartPolicy || (!listened && !restarted)) {
          log(unplannedExitMessage(name, code, signal, entries.length > 1));
          void shutdown(code || 1);
          return;
        }
        const now = Date.now();
        const recent = [...failures.filter((at) => at > now - restartPolicy.windowMs), now];
        const windowS = restartPolicy.windowMs / 1000;
        if (recent.length >= restartPolicy.failures) {
          log(`${name} exited unexpectedly (${how}), failure ${recent.length} within ${windowS} s: a crash loop; giving up, stopping the rest`);
          void shutdown(code || 1);
          return;
        }
        const delayMs = restartDelayMs(restartPolicy, recent.length);
        log(
          `${name} exited unexpectedly (${how}); restarting it in ${delayMs / 1000} s (failure ${recent.length} of ${restartPolicy.failures} within ${windowS} s gives up)`,
        );
        const timer = setTimeout(() => {
          restartTimers.delete(timer);
          if (stopping) return;
          try {
            start(index, recent);
          } catch (error) {
            log(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
            void shutdown(1);
          }
        }, delayMs);
        restartTimers.add(timer);
      });
      // 'exit' may never follow a failed spawn, so this settles the service too.
      child.once('error', (error) => {
        log(`${name} failed: ${error.message}`);
        if (!stopping) void shutdown(1);
        resolve();
      });
    });
    running[index] = { name, child, exit };
    log(`Started ${name} (pid ${child.pid})`);
  };

  try {
    for (const index of entries.keys()) start(index, []);
  } catch (error) {
    await shutdown(1);
    throw error;
  }

  return { redis: redisTargetOf(redis), ports, listening, stop: () => shutdown(0), exited };
}

function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
