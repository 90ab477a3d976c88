import { ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { SERVICE_NAMES } from '@app/messages';
import { REPO_ROOT } from './build';
import { freePort, sleep } from './ports';

export const SERVICES = SERVICE_NAMES;
export type Service = (typeof SERVICES)[number];

/** Operator key the intake accepts; the fault suite never calls the HTTP API but the intake needs keys. */
export const FAULT_API_KEYS = 'faults:faults-operator-secret-0001:operator';

/** Defaults from the brief: short claim and lease times, so faults heal within seconds. */
export const FAST_ENV: Record<string, string> = {
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  API_KEYS: FAULT_API_KEYS,
  // The services run with NODE_ENV=production, which needs a master key for guest data.
  DATA_KEY_SECRET: 'fault-suite-master-key-0123456789abcdef',
  RATE_LIMIT_PER_MINUTE: '10000000',
  STREAM_CLAIM_IDLE_MS: '1500',
  LEASE_MS: '1500',
  STREAM_BLOCK_MS: '200',
  MOCK_LLM_LATENCY_MS: '5',
  // The fixtures' deadlines are past, so the deadline sweep would keep appending MissionOverdue to
  // unfinished (dead-lettered) missions while a scenario reads histories and read models one after
  // the other to check them. The sweep is tested end to end (test/e2e/deadlines.e2e.spec.ts).
  DEADLINE_CHECK_MS: '3600000',
};

export interface ServiceProcessesOptions {
  redisUrl: string;
  keyPrefix: string;
  /** Instances per service; default 1 each. */
  instances?: Partial<Record<Service, number>>;
  /** Laid over FAST_ENV for every service. */
  env?: Record<string, string>;
  /** Laid over that for one service. */
  serviceEnv?: Partial<Record<Service, Record<string, string>>>;
  /** Lines kept per instance (all generations together). Default 4000. */
  logLines?: number;
  readyTimeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms from the kill() call (or from start, for an unexpected exit) to the 'exit' event. */
  ms: number;
}

interface Instance {
  service: Service;
  index: number;
  generation: number;
  port: number;
  child: ChildProcess;
  startedAt: number;
  exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | null;
  /** True once we asked it to go; an exit without it is reported as unexpected. */
  expectedExit: boolean;
}

/** Pino's numeric levels. */
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * The four services as real OS processes (`node dist/apps/<svc>/src/main.js`), N instances each,
 * sharing one Redis and KEY_PREFIX, each on its own free port. Output goes to a per-instance
 * buffer (for diagnosis), never to the test's console.
 */
export class ServiceProcesses {
  private readonly instances = new Map<string, Instance>();
  private readonly logs = new Map<string, string[]>();
  private readonly unexpectedExits: string[] = [];
  private readonly onProcessExit = () => this.killAllNow();
  private stopped = false;

  constructor(private readonly options: ServiceProcessesOptions) {
    process.once('exit', this.onProcessExit);
  }

  /** Starts every instance of every service and waits until each answers /health/ready. */
  async start(): Promise<void> {
    const starts: Promise<void>[] = [];
    for (const service of SERVICES) {
      for (let index = 0; index < this.count(service); index++) starts.push(this.startInstance(service, index));
    }
    await Promise.all(starts);
  }

  count(service: Service): number {
    return this.options.instances?.[service] ?? 1;
  }

  /** Starts (or starts again) one instance and waits for its readiness. */
  async startInstance(service: Service, index: number): Promise<void> {
    if (this.stopped) throw new Error('ServiceProcesses already stopped');
    const key = keyOf(service, index);
    const previous = this.instances.get(key);
    if (previous && !previous.exitInfo) throw new Error(`${key} is still running (pid ${previous.child.pid})`);
    const generation = (previous?.generation ?? 0) + 1;
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      ...FAST_ENV,
      REDIS_URL: this.options.redisUrl,
      KEY_PREFIX: this.options.keyPrefix,
      ...this.options.env,
      // May point one service at its own REDIS_URL (a proxy in front of the shared Redis).
      ...this.options.serviceEnv?.[service],
      PORT: String(port),
    };
    const entry = path.join(REPO_ROOT, 'dist', 'apps', service, 'src', 'main.js');
    const startedAt = Date.now();
    const child = spawn(process.execPath, [entry], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const instance: Instance = {
      service,
      index,
      generation,
      port,
      child,
      startedAt,
      exited: Promise.resolve({ code: null, signal: null, ms: 0 }),
      exitInfo: null,
      expectedExit: false,
    };
    instance.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        const info = { code, signal, ms: Date.now() - startedAt };
        instance.exitInfo = info;
        this.log(key, `[${key} gen ${generation}] exited code=${code} signal=${signal}`);
        if (!instance.expectedExit && !this.stopped) {
          this.unexpectedExits.push(`${key} gen ${generation} exited on its own (code ${code}, signal ${signal})`);
        }
        resolve(info);
      });
      child.once('error', (error) => {
        const info = { code: null, signal: null, ms: Date.now() - startedAt };
        instance.exitInfo = info;
        this.log(key, `[${key} gen ${generation}] failed to spawn: ${error.message}`);
        resolve(info);
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.log(key, `[${key} gen ${generation}] ${line}`));
    }
    this.instances.set(key, instance);
    this.log(key, `[${key} gen ${generation}] started pid ${child.pid} on port ${port}`);
    await this.waitReady(service, index);
  }

  /** Polls GET /health/ready until 200; fails at once when the process has exited. */
  async waitReady(service: Service, index: number, timeoutMs = this.options.readyTimeoutMs ?? 60_000): Promise<void> {
    const instance = this.instance(service, index);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (instance.exitInfo) {
        throw new Error(
          `${keyOf(service, index)} exited before it was ready (code ${instance.exitInfo.code}, signal ${instance.exitInfo.signal}):\n${this.tail(service, index, 40)}`,
        );
      }
      if ((await httpStatus(instance.port, '/health/ready')) === 200) return;
      if (Date.now() > deadline) {
        throw new Error(`${keyOf(service, index)} not ready within ${timeoutMs} ms:\n${this.tail(service, index, 40)}`);
      }
      await sleep(100);
    }
  }

  /** Whether /health/ready answers 200 right now. */
  async isReady(service: Service, index: number): Promise<boolean> {
    const instance = this.instance(service, index);
    return !instance.exitInfo && (await httpStatus(instance.port, '/health/ready')) === 200;
  }

  /**
   * Sends the signal and waits for the exit. A SIGTERM that does not end the process within
   * `timeoutMs` is followed by SIGKILL; the returned info says what ended it.
   */
  async kill(service: Service, index: number, signal: 'SIGKILL' | 'SIGTERM', timeoutMs = 20_000): Promise<ExitInfo & { forced: boolean }> {
    const instance = this.instance(service, index);
    if (instance.exitInfo) throw new Error(`${keyOf(service, index)} is not running`);
    instance.expectedExit = true;
    const sentAt = Date.now();
    this.log(keyOf(service, index), `[${keyOf(service, index)} gen ${instance.generation}] test sends ${signal}`);
    instance.child.kill(signal);
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      instance.child.kill('SIGKILL');
    }, timeoutMs);
    const info = await instance.exited;
    clearTimeout(timer);
    return { ...info, ms: Date.now() - sentAt, forced };
  }

  /** Starts a stopped (killed) instance again, as a new process with a new consumer name. */
  async restart(service: Service, index: number): Promise<void> {
    const instance = this.instance(service, index);
    if (!instance.exitInfo) await this.kill(service, index, 'SIGTERM');
    await this.startInstance(service, index);
  }

  pid(service: Service, index: number): number | undefined {
    return this.instance(service, index).child.pid;
  }

  port(service: Service, index: number): number {
    return this.instance(service, index).port;
  }

  /** Every captured line of one instance (all its generations), oldest first. */
  lines(service: Service, index: number): string[] {
    return [...(this.logs.get(keyOf(service, index)) ?? [])];
  }

  tail(service: Service, index: number, count = 30): string {
    return this.lines(service, index).slice(-count).join('\n');
  }

  /** Lines of every instance at pino level ≥ warn (or unparsable stderr), for the failure report. */
  problemLines(minLevel: 'warn' | 'error' = 'warn'): string[] {
    const threshold = minLevel === 'warn' ? 40 : 50;
    const out: string[] = [];
    for (const lines of this.logs.values()) {
      for (const line of lines) {
        const level = levelOf(line);
        if (
          level === undefined
            ? !/\] (started pid|test sends|exited code)|\[ioredis\] Unhandled error event|^\S+ \[\S+ gen \d+\]\s+at /.test(line)
            : level >= threshold
        )
          out.push(line);
      }
    }
    return out;
  }

  /** Lines of every instance that contain `text` (e.g. a mission id). */
  linesMentioning(text: string): string[] {
    const out: string[] = [];
    for (const lines of this.logs.values()) for (const line of lines) if (line.includes(text)) out.push(line);
    return out.sort();
  }

  /** Counts log lines whose message matches, over all instances. */
  countLines(pattern: RegExp): number {
    let count = 0;
    for (const lines of this.logs.values()) for (const line of lines) if (pattern.test(line)) count++;
    return count;
  }

  /** Exits that the test did not cause (a crash): every scenario expects none. */
  get crashes(): string[] {
    return [...this.unexpectedExits];
  }

  /** SIGTERM to every live instance, SIGKILL after `timeoutMs`. Idempotent. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const live = [...this.instances.values()].filter((i) => !i.exitInfo);
    for (const instance of live) {
      instance.expectedExit = true;
      instance.child.kill('SIGTERM');
    }
    const all = Promise.all(live.map((i) => i.exited));
    const timer = setTimeout(() => {
      for (const instance of live) if (!instance.exitInfo) instance.child.kill('SIGKILL');
    }, timeoutMs);
    await all;
    clearTimeout(timer);
    process.removeListener('exit', this.onProcessExit);
  }

  private killAllNow(): void {
    for (const instance of this.instances.values()) if (!instance.exitInfo) instance.child.kill('SIGKILL');
  }

  private instance(service: Service, index: number): Instance {
    const instance = this.instances.get(keyOf(service, index));
    if (!instance) throw new Error(`no instance ${keyOf(service, index)}`);
    return instance;
  }

  private log(key: string, line: string): void {
    let lines = this.logs.get(key);
    if (!lines) this.logs.set(key, (lines = []));
    lines.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    const max = this.options.logLines ?? 4_000;
    if (lines.length > max) lines.splice(0, lines.length - max);
  }
}

function keyOf(service: Service, index: number): string {
  return `${service}#${index}`;
}

function levelOf(line: string): number | undefined {
  const match = /"level":(\d+)/.exec(line);
  return match ? Number(match[1]) : undefined;
}

export function levelName(level: number): string {
  return LEVELS[level] ?? String(level);
}

function httpStatus(port: number, urlPath: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, method: 'GET', timeout: 2_000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}
