import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix, redisUrl, testKeyPrefix } from '@app/testing';
import { ensureBuilt } from './build';
import { OutcomeReport } from './outcome';
import { scenarioSeed, seededRandom } from './ports';
import { ServiceProcesses, ServiceProcessesOptions } from './service-processes';

/** Jest timeouts: the build may run in the first beforeAll. */
export const BUILD_TIMEOUT_MS = 240_000;

export function buildOnce(): void {
  const result = ensureBuilt((line) => note('build', line));
  if (result.built) note('build', `npm run build took ${result.ms} ms`);
}

/** One line on the test's stderr, prefixed with the scenario. */
export function note(scenario: string, line: string): void {
  process.stderr.write(`[faults:${scenario}] ${line}\n`);
}

export interface ScenarioOptions extends Omit<ServiceProcessesOptions, 'redisUrl' | 'keyPrefix'> {
  /** Default: the suite's Redis (REDIS_URL from the global setup, else 127.0.0.1:6379). */
  redisUrl?: string;
}

/**
 * One scenario's world: a fresh KEY_PREFIX, a Redis connection for the test, the service
 * processes, a seeded random source, and cleanup that removes exactly what it created.
 */
export class Scenario {
  readonly prefix: string;
  readonly keys: KeyLayout;
  readonly redis: Redis;
  readonly processes: ServiceProcesses;
  readonly seed = scenarioSeed();
  readonly random = seededRandom(this.seed);
  readonly redisUrl: string;
  readonly startedAt = Date.now();

  constructor(
    readonly name: string,
    options: ScenarioOptions = {},
  ) {
    this.redisUrl = options.redisUrl ?? redisUrl();
    this.prefix = testKeyPrefix(`faults-${name}`);
    this.keys = new KeyLayout(this.prefix);
    this.redis = new Redis(this.redisUrl, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(50 * n, 500) });
    this.redis.on('error', () => undefined);
    this.processes = new ServiceProcesses({ ...options, redisUrl: this.redisUrl, keyPrefix: this.prefix });
    this.note(`KEY_PREFIX=${this.prefix} seed=${this.seed} (FAULTS_SEED=${this.seed} replays the random moments)`);
  }

  note(line: string): void {
    note(this.name, `${((Date.now() - this.startedAt) / 1000).toFixed(1)}s ${line}`);
  }

  /** A whole number in [min, max]. */
  between(min: number, max: number): number {
    return Math.floor(min + this.random() * (max - min + 1));
  }

  /** Prints the figures the docs table is made of, and the diagnosis when anything was violated. */
  summarize(report: OutcomeReport, extra: Record<string, unknown> = {}): void {
    const s = report.stats;
    this.note(
      `outcome: ${s.missions} missions ${JSON.stringify(s.byStatus)} finished in ${(s.finishMs / 1000).toFixed(1)} s after the workload; ` +
        `attempts ${s.attempts}, retries ${s.retries}, failed evaluations ${s.failedEvaluations}, failed executions ${JSON.stringify(s.failures)}, ` +
        `dead-lettered by faults ${s.deadLetteredByFaults}, lease expiries ${s.leaseExpiries}, poison ${JSON.stringify(s.poison)}, rejected ${s.rejected}, ` +
        `pending at end ${s.pendingAtEnd}, events ${s.events}${Object.keys(extra).length ? `, ${JSON.stringify(extra)}` : ''}`,
    );
    if (report.violations.length > 0) this.diagnose(report.violations);
  }

  diagnose(violations: readonly string[]): void {
    this.note(`VIOLATIONS (${violations.length}):\n  ${violations.slice(0, 40).join('\n  ')}`);
    const problems = this.processes.problemLines('warn');
    this.note(`service warn/error lines (${problems.length}, last 60):\n  ${problems.slice(-60).join('\n  ')}`);
    if (this.processes.crashes.length) this.note(`crashes: ${this.processes.crashes.join('; ')}`);
  }

  /** Stops the processes, then deletes every key of this prefix. */
  async close(): Promise<void> {
    await this.processes.stop().catch((error) => this.note(`stopping services failed: ${String(error)}`));
    if (this.redis.status === 'ready') {
      const deleted = await deleteKeysByPrefix(this.redis, this.prefix).catch(() => 0);
      this.note(`deleted ${deleted} keys of ${this.prefix}; total ${((Date.now() - this.startedAt) / 1000).toFixed(1)} s`);
    }
    this.redis.disconnect();
  }
}
