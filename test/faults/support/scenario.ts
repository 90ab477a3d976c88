import * as os from 'node:os';
import Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { mulberry32 } from '@app/llm';
import { deleteKeysByPrefix, redisUrl, testKeyPrefix } from '@app/testing';
import { ensureBuilt } from './build';
import { InvariantSampler } from './invariants';
import { checkOutcome, OutcomeOptions, OutcomeReport, readHistories, waitForFinished } from './outcome';
import { scenarioSeed } from './ports';
import { ServiceProcesses, ServiceProcessesOptions } from './service-processes';

/** Jest timeouts: the build may run in the first beforeAll. */
export const BUILD_TIMEOUT_MS = 240_000;

/**
 * Jest gives every test file its own globals and process.env, but core modules are shared by the
 * whole (in-band) run: a mark on `os` survives from one scenario file to the next.
 */
const BUILD_CHECKED = Symbol.for('brain.faults.build-checked');

/**
 * Checks the build once per Jest run, so every scenario of one run exercises the same build even
 * while others keep editing the sources.
 */
export function buildOnce(): void {
  const shared = os as unknown as Record<symbol, boolean | undefined>;
  if (shared[BUILD_CHECKED]) return;
  const result = ensureBuilt((line) => note('build', line));
  if (result.built) note('build', `npm run build took ${result.ms} ms`);
  shared[BUILD_CHECKED] = true;
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
  /** Seeded, so a failing run's random moments can be replayed with FAULTS_SEED. */
  readonly random = mulberry32(this.seed);
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

  private sampler: InvariantSampler | null = null;

  /** Checks the queue invariant and agent slot accounting every second from now until outcome(). */
  sampleInvariants(everyMs = 1_000): void {
    this.sampler ??= new InvariantSampler(this.redis, this.keys, everyMs).start();
  }

  /** checkOutcome, plus whatever the invariant sampler saw while the scenario ran. */
  async outcome(ids: readonly string[], options: OutcomeOptions = {}): Promise<OutcomeReport> {
    const sampler = this.sampler;
    this.sampler = null;
    // Sample until the missions are done (not only while they are submitted); checkOutcome waits again and judges.
    const timeoutMs = options.timeoutMs ?? 120_000;
    const waited = sampler ? await waitForFinished(this.redis, this.keys, ids, timeoutMs) : null;
    const during = sampler ? await sampler.stop() : [];
    // One budget for both waits: checkOutcome gets what is left of it.
    const report = await checkOutcome(this.redis, this.keys, ids, { ...options, timeoutMs: Math.max(1_000, timeoutMs - (waited?.ms ?? 0)) });
    if (waited) report.stats.finishMs = waited.ms + report.stats.finishMs;
    report.violations.push(...during.map((p) => `during the run, ${p}`));
    report.violations.push(...(await this.unfinishedHistories(report)));
    if (sampler) this.note(`invariant sampler: ${sampler.samples} samples, ${during.length} problems, ${sampler.errors} failed samples`);
    return report;
  }

  /** For the diagnosis: the histories of a few unfinished missions, and the service lines that name them. */
  private async unfinishedHistories(report: OutcomeReport, count = 3): Promise<string[]> {
    if (report.unfinished.length === 0) return [];
    const histories = await readHistories(this.redis, this.keys);
    return report.unfinished.slice(0, count).map(({ id, status }) => {
      const events = (histories.get(id) ?? []).map((e) => `v${e.version} ${e.type} by ${e.actor} at ${e.at.slice(11, 23)}`);
      const lines = this.processes.linesMentioning(id).slice(-5);
      return `history of unfinished ${id} (${status}): ${events.join(' → ')}${lines.length ? `; service lines: ${lines.join(' | ')}` : '; no service line names it'}`;
    });
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
    await this.sampler?.stop();
    await this.processes.stop().catch((error) => this.note(`stopping services failed: ${String(error)}`));
    if (this.redis.status === 'ready') {
      const deleted = await deleteKeysByPrefix(this.redis, this.prefix).catch(() => 0);
      this.note(`deleted ${deleted} keys of ${this.prefix}; total ${((Date.now() - this.startedAt) / 1000).toFixed(1)} s`);
    }
    this.redis.disconnect();
  }
}
