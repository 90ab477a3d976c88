import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { freePort, sleep } from './ports';

/**
 * A redis-server of the test's own on a free loopback port, with AOF fsynced on every write, so
 * it can be shut down or killed and started again on the same port and data directory.
 */
export class PrivateRedis {
  readonly dir: string;
  port = 0;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'brain-faults-redis-'));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** First call picks the port; later calls reuse it (a restart). */
  async start(timeoutMs = 15_000): Promise<void> {
    if (this.running) throw new Error('private redis is already running');
    this.port ||= await freePort();
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--dir',
        this.dir,
        '--daemonize',
        'no',
        '--protected-mode',
        'yes',
        // A file, not a pipe: an AOF-rewrite fork would inherit a pipe and keep it (and the test run) open.
        '--logfile',
        this.logFile,
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    probe.on('error', () => undefined);
    try {
      for (;;) {
        if (!this.running) throw new Error(`redis-server exited during start:\n${this.log()}`);
        try {
          if (probe.status !== 'ready') await probe.connect();
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          probe.disconnect();
        }
        if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not answer within ${timeoutMs} ms`);
        await sleep(50);
      }
    } finally {
      probe.disconnect();
    }
  }

  /** `SHUTDOWN` (the AOF is flushed), then wait for the process to end. */
  async shutdown(): Promise<void> {
    if (!this.running) return;
    const admin = new Redis(this.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    admin.on('error', () => undefined);
    await admin.call('SHUTDOWN').catch(() => undefined);
    admin.disconnect();
    await this.waitExit(10_000);
  }

  /** SIGKILL: only what appendfsync always wrote survives. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGKILL');
    await this.waitExit(10_000);
  }

  /** Stops the server (SIGKILL if SHUTDOWN does not end it) and deletes its data directory. */
  async destroy(): Promise<void> {
    if (this.running) {
      await this.shutdown().catch(() => undefined);
      if (this.running) await this.kill();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The server's log (all its starts). */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  private get logFile(): string {
    return path.join(this.dir, 'redis.log');
  }

  private async waitExit(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    if (this.running) {
      this.child?.kill('SIGKILL');
      await this.exited;
    }
  }
}
