import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { MultiBar, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import Redis from 'ioredis';
import { SERVICE_NAMES, ServiceName } from '@app/messages';
import type { Mission } from '@app/mission';
import { MISSION_TYPES } from '@app/mission';
import { resolveRedis, ResolvedRedis, findFreePort, deleteKeysByPrefix } from '@app/redis';
import { servicePorts } from '@app/runtime';
import { launchSystem, linePrefix, RunningSystem, waitUntilReady } from './launcher';

const rootDir = path.resolve(__dirname, '..', '..');
const READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 300;
const HTTP_CONCURRENCY = 8;
/** Bounds how often one request waits out a 429 before it counts as failed. */
const MAX_RATE_LIMIT_WAITS = 5;
const FINISHED: ReadonlySet<string> = new Set(['succeeded', 'dead_lettered', 'cancelled']);
/** The review policy the demo runs with unless REVIEW_POLICY_FILE says otherwise (set it empty for none). */
const DEMO_REVIEW_POLICY = path.join(rootDir, 'fixtures', 'review-policy.yaml');
/** What the demo's reviewer asks for when it sends a result back. */
const DEMO_FEEDBACK = 'Please say who on our team follows up, and when the guest or the staff will hear from us.';

const EXIT_OK = 0;
const EXIT_MISMATCH = 1;
const EXIT_TIMEOUT = 2;
const EXIT_INTERRUPTED = 130;

interface DemoOptions {
  fixtures: string;
  timeout: number;
  keepRunning: boolean;
  split: boolean;
  port: number;
}

interface Fixture {
  type: string;
  title: string;
  payload: Record<string, unknown>;
}

type Expected = 'succeeded' | 'dead_lettered';

interface Tracked {
  index: number;
  fixture: Fixture;
  expected: Expected;
  id?: string;
  mission?: Mission;
  /** Why submission or polling failed last; shown when the mission ends up a mismatch. */
  error?: string;
  /** The demo reviewer's decisions on this mission's results. */
  approved: number;
  rejected: number;
}

/** Thrown when Ctrl-C or a crashed service ends the run early; not a demo failure of its own. */
class Aborted extends Error {}

/**
 * Routes everything printed while progress bars are drawn through the bars' log buffer, so the
 * launcher's prefixed service lines appear above the bars instead of tearing them apart.
 */
class Terminal {
  private bars: MultiBar | undefined;
  /** Something changed since the bars were last drawn. */
  private dirty = false;
  readonly color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

  line(text: string): void {
    this.raw(`${text}\n`);
  }

  raw(text: string): void {
    if (this.bars) {
      this.bars.log(text);
      this.dirty = true;
    } else {
      process.stdout.write(text);
    }
  }

  startBars(): MultiBar {
    this.stopBars();
    const tty = Boolean(process.stdout.isTTY);
    this.bars = new MultiBar({
      stream: process.stdout,
      format: '{label} [{bar}] {value}/{total} {percentage}% | {rate}/s | ETA {eta_formatted}',
      barCompleteChar: '#',
      barIncompleteChar: '.',
      hideCursor: tty,
      // Redirected output still gets a progress line now and then instead of nothing.
      noTTYOutput: !tty,
      notTTYSchedule: 2_000,
      // Our own SIGINT handler stops the bars; cli-progress's would race it.
      gracefulExit: false,
      // A bar that stopped changing is otherwise not redrawn after log lines pushed it down, and vanishes.
      forceRedraw: true,
      // Without a TTY stop() would print the bars once more right after the final update() below.
      clearOnComplete: !tty,
    });
    this.bars.on('redraw-post', () => (this.dirty = false));
    return this.bars;
  }

  progress(bar: SingleBar, value: number, rate: string): void {
    bar.update(value, { rate });
    this.dirty = true;
  }

  stopBars(): void {
    if (!this.bars) return;
    // stop() drops whatever log() buffered since the last redraw; update() flushes it and draws the final
    // state. Skipped when nothing changed, since without a TTY each redraw prints the bars once more.
    if (this.dirty || process.stdout.isTTY) this.bars.update();
    this.bars.stop();
    this.bars = undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('demo')
    .description(
      'Start the BRAIN Mission System, submit every fixture mission through the REST API, wait until all are finished ' +
        '(deciding the results the review policy holds as a reviewer would: every third sent back once, the rest approved) ' +
        'and print a summary. Exit 0 when every mission ended as expected, 1 otherwise, 2 on timeout.',
    )
    .option('--fixtures <file>', 'missions to submit (relative to the repository root)', 'fixtures/odoo_missions_mock.json')
    .option('--timeout <s>', 'seconds the missions get to finish, counted from the first submission', parsePositive, 120)
    .option('--keep-running', 'leave the system (and the demo keys) up after the summary until Ctrl-C', false)
    .option('--split', 'the four services as four processes instead of one', false)
    .option(
      '--port <n>',
      "intake HTTP port (env PORT, else 3000); a free one is picked if it's taken",
      parsePort,
      process.env.PORT ? parsePort(process.env.PORT) : 3000,
    )
    .showHelpAfterError();
  program.parse(argv);
  const options = program.opts<DemoOptions>();

  const term = new Terminal();
  const launcherLog = (line: string) => term.line(`${linePrefix('launcher', term.color)}${line}`);
  const fixturesPath = path.resolve(rootDir, options.fixtures);
  const fixtures = await loadFixtures(fixturesPath);

  // A fresh prefix per run keeps earlier runs' missions (and idempotency keys) out of this one.
  const ownPrefix = !process.env.KEY_PREFIX;
  const keyPrefix = process.env.KEY_PREFIX || `demo:${Date.now()}:`;
  const ports = await choosePorts(options.port);
  if (ports.intake !== options.port) term.line(`Port ${options.port} is taken; the intake listens on ${ports.intake} instead.`);

  const abort = new AbortController();
  let interrupted = false;
  let system: RunningSystem | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      term.line(`${signal} again: still stopping (services get up to 10 s)`);
      return;
    }
    interrupted = true;
    term.stopBars();
    term.line(`${signal} received, stopping`);
    abort.abort();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  // The demo owns the Redis resolution (instead of the launcher) so that it can delete its keys
  // after the services stop but before a private server goes away.
  const redis: ResolvedRedis = await resolveRedis({ dataDir: path.join(rootDir, '.data'), log: launcherLog, env: process.env });
  let crashed: number | undefined;
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: redis.url,
      KEY_PREFIX: keyPrefix,
      LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
      REVIEW_POLICY_FILE: process.env.REVIEW_POLICY_FILE ?? DEMO_REVIEW_POLICY,
    };
    // A key of its own, valid only for this run's intake, so the demo needs neither the operator's
    // secrets nor the local key file; keys the user configured keep working alongside it. A submitter
    // is all the run needs; with --keep-running the key is printed for the user, who will want to
    // look at the dead-letter queue the summary reports on, which takes an operator.
    const apiKey = randomBytes(24).toString('base64url');
    const keyRole = options.keepRunning ? 'operator' : 'submitter';
    // The results the review policy holds are decided by a reviewer of the demo's own, as a person would.
    const reviewerKey = randomBytes(24).toString('base64url');
    const serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> = {
      intake: {
        API_KEYS: [process.env.API_KEYS?.trim(), `demo-${Date.now()}:${apiKey}:${keyRole}`, `demo-reviewer-${Date.now()}:${reviewerKey}:reviewer`]
          .filter(Boolean)
          .join(','),
      },
    };
    system = await launchSystem({
      services: [...SERVICE_NAMES],
      env,
      serviceEnv,
      ports,
      dataDir: path.join(rootDir, '.data'),
      log: launcherLog,
      output: lineWriter((text) => term.raw(text)),
      color: term.color,
      pretty: Boolean(process.stdout.isTTY),
      oneProcess: !options.split,
    });
    let stopping = false;
    const running = system;
    void running.exited.then((code) => {
      if (stopping) return;
      crashed = code;
      term.stopBars();
      term.line(`The system stopped on its own (exit code ${code}); ending the demo.`);
      abort.abort();
    });

    const base = `http://127.0.0.1:${ports.intake}`;
    const intake = new IntakeClient(base, apiKey, abort.signal);
    const reviewer = new IntakeClient(base, reviewerKey, abort.signal);
    term.line(
      `Demo: ${fixtures.length} missions from ${path.relative(rootDir, fixturesPath)}; KEY_PREFIX=${keyPrefix}; ` + `intake ${base}; Redis ${redis.url}`,
    );

    let code: number;
    let tracked: Tracked[] = [];
    try {
      if (interrupted) throw new Aborted();
      await waitReady(ports, abort.signal, term);
      tracked = fixtures.map((fixture, index): Tracked => ({ index, fixture, expected: expectedOf(fixture), approved: 0, rejected: 0 }));
      const deadline = Date.now() + options.timeout * 1000;
      const bars = term.startBars();
      await submitAll(intake, tracked, bars, term);
      const timedOut = !(await waitFinished(intake, reviewer, tracked, bars, term, deadline, abort.signal));
      term.stopBars();
      code = report(tracked, timedOut, options.timeout, term);
    } catch (error) {
      term.stopBars();
      if (error instanceof Aborted && crashed !== undefined) {
        // The missions can no longer be read, but what was seen so far says how far the run got.
        if (tracked.length > 0) {
          term.line('\nAs last seen before the system stopped:');
          report(tracked, false, options.timeout, term);
        }
        code = EXIT_MISMATCH;
      } else if (error instanceof Aborted) {
        code = EXIT_INTERRUPTED;
      } else {
        // Still falls through to stopping and cleanup below, which a rethrow would skip.
        term.line(`demo: ${error instanceof Error ? error.message : String(error)}`);
        code = EXIT_MISMATCH;
      }
    }

    if (options.keepRunning && !abort.signal.aborted) {
      term.line(
        `\nThe system keeps running: ${base}/api/missions (KEY_PREFIX=${keyPrefix}; its keys stay in Redis: ` +
          `delete them afterwards with npm run replay -- purge --prefix ${keyPrefix} --yes).\n` +
          `This run's operator API key (missions and the dead-letter queue, ${base}/api/dlq): ${apiKey}\n` +
          `The operator console: ${base}/console (sign in with that key).\n` +
          `Send it as Authorization: Bearer <key>; it is valid until the demo stops. Press Ctrl-C to stop.`,
      );
      await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    stopping = true;
    await running.stop();
    // A crash that came while the summary was being printed (the launcher resolves `exited` only after
    // stopping the rest) still shows here, since stop() then settles with the crash's code.
    const systemCode = await running.exited;
    if (systemCode !== 0 && crashed === undefined) {
      term.line(`A service exited on its own during the demo (code ${systemCode}); see the launcher lines above.`);
    }
    if (systemCode !== 0 && code !== EXIT_INTERRUPTED) code = EXIT_MISMATCH;
    // Kept only with --keep-running, so the missions can still be looked at afterwards.
    if (ownPrefix && !options.keepRunning) await deleteKeys(redis.url, keyPrefix, term);
    return code;
  } finally {
    // Covers a launch that failed before `system` existed; stop() is idempotent otherwise.
    await system?.stop();
    await redis.stop();
  }
}

function parsePositive(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return number;
}

function parsePort(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > 65535) throw new InvalidArgumentError('must be a port from 1 to 65535');
  return number;
}

async function loadFixtures(file: string): Promise<Fixture[]> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected a JSON array of missions`);
  return parsed.map((entry: unknown, index) => {
    if (!isRecord(entry) || typeof entry.type !== 'string' || typeof entry.title !== 'string' || !isRecord(entry.payload)) {
      throw new Error(`${file}: entry ${index} needs a string type, a string title and an object payload`);
    }
    return { ...entry, type: entry.type, title: entry.title, payload: entry.payload };
  });
}

function expectedOf(fixture: Fixture): Expected {
  return fixture.payload.expectedOutcome === 'dead_lettered' ? 'dead_lettered' : 'succeeded';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMission(value: unknown): value is Mission {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.status === 'string' &&
    typeof value.attempts === 'number' &&
    typeof value.createdAt === 'string' &&
    typeof value.updatedAt === 'string'
  );
}

/**
 * The ports `npm start` would use with this intake port (servicePorts), each replaced by a free one
 * when something already holds it, since a dev machine often runs something on 3000-3003.
 */
async function choosePorts(intakePort: number): Promise<Record<ServiceName, number>> {
  const ports = servicePorts({ ...process.env, PORT: String(intakePort) });
  const taken = new Set<number>();
  for (const name of SERVICE_NAMES) {
    while (taken.has(ports[name]) || !(await portIsFree(ports[name]))) ports[name] = await findFreePort();
    taken.add(ports[name]);
  }
  return ports;
}

/** Probes with the same default (all-interfaces) bind the services use, so a clash shows up here first. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/** A stream the launcher can write its prefixed lines to. */
function lineWriter(write: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      write(chunk.toString('utf8'));
      callback();
    },
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Aborted());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Aborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function request(url: string, signal: AbortSignal, init: RequestInit = {}): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (e.g. a proxy's error page); the raw text still says what went wrong.
    }
    return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
  } catch (error) {
    if (signal.aborted) throw new Aborted();
    throw error;
  }
}

/** The intake's REST API as the demo uses it: authenticated, and patient with the rate limit. */
class IntakeClient {
  constructor(
    readonly base: string,
    private readonly apiKey: string,
    private readonly signal: AbortSignal,
  ) {}

  get(path: string): Promise<{ status: number; body: unknown }> {
    return this.send(path, 'GET', {});
  }

  post(path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
    return this.send(path, 'POST', { 'content-type': 'application/json', ...headers }, JSON.stringify(body));
  }

  private async send(path: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: unknown }> {
    const init: RequestInit = { method, body, headers: { ...headers, authorization: `Bearer ${this.apiKey}` } };
    for (let waits = 0; ; waits++) {
      const response = await request(`${this.base}${path}`, this.signal, init);
      if (response.status !== 429 || waits >= MAX_RATE_LIMIT_WAITS) return response;
      // Polling a slow run can outpace the per-key limit; waiting is cheaper than failing the mission.
      const retryAfter = Number(response.retryAfter);
      await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 60) * 1000 : 1000, this.signal);
    }
  }
}

/** Runs `work` over `items` with at most `limit` in flight, so the intake is not hit with everything at once. */
async function inBatches<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(workers);
}

async function waitReady(ports: Record<ServiceName, number>, signal: AbortSignal, term: Terminal): Promise<void> {
  term.line('Waiting for the services to be ready…');
  // All four, not just the intake: a mission submitted before the orchestrator consumes would only sit in the queue,
  // but a service that never gets ready is better reported here than as a timeout later.
  try {
    await waitUntilReady(ports, { timeoutMs: READY_TIMEOUT_MS, signal });
  } catch (error) {
    if (signal.aborted) throw new Aborted();
    throw error;
  }
  term.line(`Ready: ${SERVICE_NAMES.map((name) => `${name} :${ports[name]}`).join(', ')}`);
}

function perSecond(count: number, since: number): string {
  const seconds = (Date.now() - since) / 1000;
  return seconds > 0 ? (count / seconds).toFixed(1) : '0.0';
}

async function submitAll(intake: IntakeClient, tracked: Tracked[], bars: MultiBar, term: Terminal): Promise<void> {
  const started = Date.now();
  let done = 0;
  const bar: SingleBar = bars.create(tracked.length, 0, { label: 'submitted', rate: '0.0' });
  await inBatches(tracked, HTTP_CONCURRENCY, async (item) => {
    try {
      const { status, body } = await intake.post('/api/missions', item.fixture, { 'idempotency-key': `demo-${item.index}` });
      if ((status === 201 || status === 200) && isMission(body)) {
        item.id = body.id;
        item.mission = body;
      } else {
        item.error = `POST /api/missions answered ${status}: ${JSON.stringify(body).slice(0, 300)}`;
      }
    } catch (error) {
      if (error instanceof Aborted) throw error;
      item.error = `POST /api/missions failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    done += 1;
    term.progress(bar, done, perSecond(done, started));
  });
}

/**
 * Polls the unfinished missions until all are finished (true) or the deadline passes (false); a
 * result awaiting review is decided by the demo's reviewer as it is seen.
 */
async function waitFinished(
  intake: IntakeClient,
  reviewer: IntakeClient,
  tracked: Tracked[],
  bars: MultiBar,
  term: Terminal,
  deadline: number,
  signal: AbortSignal,
): Promise<boolean> {
  const started = Date.now();
  const countFinished = () => tracked.filter((item) => item.mission && FINISHED.has(item.mission.status)).length;
  const bar: SingleBar = bars.create(tracked.length, countFinished(), { label: 'finished ', rate: '0.0' });
  // Failed submissions have no id to poll; they are mismatches already.
  const pollable = tracked.filter((item) => item.id !== undefined);
  for (;;) {
    const open = pollable.filter((item) => !(item.mission && FINISHED.has(item.mission.status)));
    if (open.length === 0) return true;
    if (Date.now() > deadline) return false;
    await inBatches(open, HTTP_CONCURRENCY, async (item) => {
      try {
        const { status, body } = await intake.get(`/api/missions/${encodeURIComponent(item.id ?? '')}`);
        if (status === 200 && isMission(body)) {
          item.mission = body;
          item.error = undefined;
          if (body.status === 'awaiting_review') await review(reviewer, item);
        } else {
          item.error = `GET answered ${status}: ${JSON.stringify(body).slice(0, 300)}`;
        }
      } catch (error) {
        if (error instanceof Aborted) throw error;
        // A blip is retried on the next pass; only the last one is kept for the report.
        item.error = `GET failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    });
    const finished = countFinished();
    term.progress(bar, finished, perSecond(finished, started));
    if (pollable.every((item) => item.mission && FINISHED.has(item.mission.status))) return true;
    await sleep(POLL_INTERVAL_MS, signal);
  }
}

/**
 * The demo's reviewer: sends every third mission's first result back with feedback (the next
 * attempt's prompt carries it, and its result is reviewed again), and approves the others.
 */
async function review(reviewer: IntakeClient, item: Tracked): Promise<void> {
  const reject = item.index % 3 === 0 && item.rejected === 0;
  const id = encodeURIComponent(item.id ?? '');
  const { status, body } = reject
    ? await reviewer.post(`/api/missions/${id}/reject`, { feedback: DEMO_FEEDBACK }, {})
    : await reviewer.post(`/api/missions/${id}/approve`, { note: 'Checked by the demo reviewer.' }, {});
  if (status === 200 && isMission(body)) {
    item.mission = body;
    if (reject) item.rejected += 1;
    else item.approved += 1;
  } else {
    item.error = `${reject ? 'reject' : 'approve'} answered ${status}: ${JSON.stringify(body).slice(0, 300)}`;
  }
}

function report(tracked: Tracked[], timedOut: boolean, timeoutSeconds: number, term: Terminal): number {
  const types = [...new Set([...MISSION_TYPES, ...tracked.map((item) => item.fixture.type)])].filter((type) =>
    tracked.some((item) => item.fixture.type === type),
  );
  const header = ['type', 'total', 'succeeded', 'dead-lettered', 'reviewed', 'rejected', 'mean attempts', 'p50 ms to done'];
  const rows = types.map((type) =>
    summaryRow(
      type,
      tracked.filter((item) => item.fixture.type === type),
    ),
  );
  rows.push(summaryRow('all', tracked));
  term.line('');
  term.line(formatTable(header, rows));

  const mismatches = tracked.filter((item) => item.mission?.status !== item.expected);
  const expectedDead = tracked.filter((item) => item.expected === 'dead_lettered').length;
  const sum = (pick: (item: Tracked) => number) => tracked.reduce((total, item) => total + pick(item), 0);
  term.line('');
  term.line(
    `Reviews (REVIEW_POLICY_FILE): ${sum((item) => item.approved + item.rejected)} results reviewed, ` +
      `${sum((item) => item.approved)} approved, ${sum((item) => item.rejected)} sent back with feedback and retried.`,
  );
  term.line(
    `Expected vs actual: ${tracked.length - mismatches.length}/${tracked.length} as expected ` +
      `(${tracked.length - expectedDead} to succeed, ${expectedDead} to be dead-lettered).`,
  );
  for (const item of mismatches) {
    const actual = item.mission ? `${item.mission.status} after ${item.mission.attempts} attempt(s)` : 'not submitted';
    const detail = item.mission?.lastError ?? item.error;
    term.line(
      `  MISMATCH #${item.index} ${item.fixture.type} "${item.fixture.title}" (${item.id ?? 'no id'}): ` +
        `expected ${item.expected}, got ${actual}${detail ? ` — ${detail}` : ''}`,
    );
  }
  if (timedOut) {
    term.line(`Timed out after ${timeoutSeconds} s with ${mismatches.filter((item) => !isFinished(item)).length} mission(s) unfinished.`);
    return EXIT_TIMEOUT;
  }
  return mismatches.length === 0 ? EXIT_OK : EXIT_MISMATCH;
}

function isFinished(item: Tracked): boolean {
  return item.mission !== undefined && FINISHED.has(item.mission.status);
}

function summaryRow(type: string, items: Tracked[]): string[] {
  const missions = items.flatMap((item) => (item.mission ? [item.mission] : []));
  const count = (status: string) => missions.filter((mission) => mission.status === status).length;
  const meanAttempts = missions.length > 0 ? missions.reduce((sum, mission) => sum + mission.attempts, 0) / missions.length : NaN;
  const durations = missions
    .filter((mission) => FINISHED.has(mission.status))
    .map((mission) => Date.parse(mission.updatedAt) - Date.parse(mission.createdAt))
    .sort((a, b) => a - b);
  // Nearest-rank median: always a time some mission actually took.
  const p50 = durations.length > 0 ? durations[Math.ceil(durations.length / 2) - 1] : NaN;
  return [
    type,
    String(items.length),
    String(count('succeeded')),
    String(count('dead_lettered')),
    String(items.filter((item) => item.approved + item.rejected > 0).length),
    String(items.reduce((sum, item) => sum + item.rejected, 0)),
    Number.isNaN(meanAttempts) ? '-' : meanAttempts.toFixed(2),
    Number.isNaN(p50) ? '-' : String(p50),
  ];
}

function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  // Text left, numbers right, as a reader scans them.
  const cell = (value: string, column: number) => (column === 0 ? value.padEnd(widths[column]) : value.padStart(widths[column]));
  const line = (row: string[]) => row.map(cell).join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...rows.slice(0, -1).map(line), rule, line(rows[rows.length - 1])].join('\n');
}

/** SCAN+UNLINK under the demo's own prefix only: the Redis may be shared, so nothing else is touched. */
async function deleteKeys(url: string, prefix: string, term: Terminal): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: true });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const deleted = await deleteKeysByPrefix(client, prefix);
    term.line(`Deleted ${deleted} demo key(s) under ${prefix}`);
  } catch (error) {
    term.line(`Could not delete the demo keys under ${prefix}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    client.disconnect();
  }
}

/** Lets stdout drain instead of cutting the last lines off; the unref'd timer only matters if a handle lingers. */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

main(process.argv).then(finish, (error: unknown) => {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  finish(EXIT_MISMATCH);
});
