import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { MultiBar, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { forTerminal } from '@app/audit';
import { ConfigError, DECIMAL_INTEGER, EXIT_CONFIG, EXIT_USAGE, loadEnvironment, redisUrlDatabase } from '@app/config';
import { SERVICE_NAMES, ServiceName } from '@app/messages';
import type { Mission } from '@app/mission';
import { isPlainObject, MISSION_TYPES } from '@app/mission';
import {
  createRedisConnection,
  deleteKeysByPrefix,
  describeRedis,
  escapeGlob,
  EXIT_REDIS_UNAVAILABLE,
  findFreePort,
  isCluster,
  isSelectRefusal,
  masterNodes,
  portIsFree,
  RedisConnection,
  redisTargetOf,
  resolveRedis,
  ResolvedRedis,
  scanKeys,
  wrongDatabase,
} from '@app/redis';
import { deadlineSignal, servicePorts } from '@app/runtime';
import { formatTable } from './format-table';
import { checkRedisVariables, childLogFormat, launchSystem, linePrefix, readyTimeoutMs, RunningSystem, serviceUrl, waitUntilReady } from './launcher';
import { ProgressLines } from './progress-lines';
import { progressTime } from './progress-time';
import { stopSignalListener } from './stop-signal-listener';

const rootDir = path.resolve(__dirname, '..', '..');
const POLL_INTERVAL_MS = 300;
const HTTP_CONCURRENCY = 8;
/** Bounds how often one request waits out a 429 before it counts as failed. */
const MAX_RATE_LIMIT_WAITS = 5;
const FINISHED: ReadonlySet<string> = new Set(['succeeded', 'dead_lettered', 'cancelled']);
/** The review policy the demo runs with unless REVIEW_POLICY_FILE says otherwise (set it empty for none). */
const DEMO_REVIEW_POLICY = path.join(rootDir, 'fixtures', 'review-policy.yaml');
/** What the demo's reviewer asks for when it sends a result back. */
const DEMO_FEEDBACK = 'Please say who on our team follows up, and when the guest or the staff will hear from us.';
/** A fixture with `notBefore` starts this long after the demo submits it (the fixture's own time is a placeholder). */
const DELAY_MS = 5_000;
/**
 * How long undoing the run's schedules and paused agents may take at its end (undoRunChanges): well
 * under the launcher's 10 s. Also how long a schedule's create may take, which a Ctrl-C does not cut.
 */
const UNDO_TIMEOUT_MS = 5_000;

const JSON_HEADERS = { 'content-type': 'application/json' };

const EXIT_OK = 0;
const EXIT_MISMATCH = 1;
const EXIT_TIMEOUT = 3;
const EXIT_INTERRUPTED = 130;
const EXIT_CODES_HELP = `
Exit codes: 0 every mission ended as expected; 1 one did not (or a service stopped on its own, but
for the 78 and 69 below, or the demo itself failed); 2 bad usage (an unknown option, an option
value that does not read); 3 the missions did not finish within --timeout; 78 a bad variable,
named: one the demo refuses (PORT, LOG_FORMAT, KEY_PREFIX, REDIS_URL) or one a service refuses
before the system is ready (MAX_ATTEMPTS=abc, REVIEW_POLICY_FILE naming no file, REDIS_URL naming a
database the server lacks), as npm start ends on one; 69 the services cannot reach Redis at start
(REDIS_URL); 130 stopped by Ctrl-C, SIGTERM or SIGHUP before the summary (with --keep-running, one
after it ends the demo with the summary's code).

Keys: the demo's own (demo:<time>:) are deleted when it ends, but after the summary of a
--keep-running run (a stop before that summary deletes them too); under a
KEY_PREFIX given they stay, and the demo says how to purge them. After a 78 or 69 it submitted
nothing, but the services that started before one refused (with --split most often) may have
written keys: deleted under its own prefix, said under a KEY_PREFIX given when there are any (or
that the look for them did not finish within 5 s).`;
/**
 * The system's own exit codes the demo ends with when the system stopped on one before it was
 * ready: a variable or configuration file a service refused (78, named in the service's lines), a
 * Redis the services could not reach (69). The demo submitted nothing then (the services that
 * started before one refused may have written their own keys), and a script can tell "fix the
 * configuration" from a run gone wrong (1), as it can of `npm start`.
 */
const SYSTEM_CODES_PASSED_ON: ReadonlySet<number> = new Set([EXIT_CONFIG, EXIT_REDIS_UNAVAILABLE]);

interface DemoOptions {
  fixtures: string;
  schedules: string;
  timeout: number;
  keepRunning: boolean;
  split: boolean;
  /** Unset: PORT, else 3000 (read as npm start reads it, so a bad PORT is named). */
  port?: number;
}

interface Fixture {
  type: string;
  title: string;
  payload: Record<string, unknown>;
  notBefore?: string;
}

/** A recurring schedule the demo creates (POST /api/schedules), and what it has fired so far. */
interface DemoSchedule {
  body: { cron: string; timeZone: string; template: Fixture };
  id?: string;
  fired: number;
  error?: string;
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
  /** Created by a schedule's firing rather than submitted. */
  recurring?: boolean;
  /** When it was first assigned to an agent (MissionAssigned), and when a delayed one was queued; read after it finished. */
  assignedAt?: number;
  queuedDueAt?: number;
  /** The notBefore the demo gave a delayed mission. */
  notBefore?: number;
}

/** Thrown when Ctrl-C or a crashed service ends the run early; not a demo failure of its own. */
class Aborted extends Error {}

/** An option's file that does not read (missing, a directory, not JSON, not what it must hold): bad usage, exit 2, as the help says. */
class UsageError extends Error {}

/** A counter of the demo's progress: a bar on a terminal, ProgressLines' lines elsewhere. */
interface Counter {
  setTotal(total: number): void;
  update(value: number, rate: string): void;
}

interface Counters {
  create(label: string, total: number, value: number): Counter;
}

/**
 * Routes everything printed while progress bars are drawn through the bars' log buffer, so the
 * launcher's prefixed service lines appear above the bars instead of tearing them apart.
 */
class Terminal {
  private bars: MultiBar | undefined;
  /** Off a terminal, the counters' lines; flushed when the counters stop. */
  private lines: ProgressLines | undefined;
  readonly color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

  line(text: string): void {
    this.raw(`${text}\n`);
  }

  raw(text: string): void {
    if (this.bars) this.bars.log(text);
    else process.stdout.write(text);
  }

  startBars(): Counters {
    this.stopBars();
    // Off a terminal the bars would print their whole block every 2 s and with every log line.
    if (!process.stdout.isTTY) {
      const lines = new ProgressLines((line) => process.stdout.write(`${line}\n`));
      this.lines = lines;
      return {
        create: (label, total) => {
          let current = total;
          return { setTotal: (next) => (current = next), update: (value, rate) => lines.update(label, value, current, rate) };
        },
      };
    }
    const bars = new MultiBar({
      stream: process.stdout,
      format: '{label} [{bar}] {value}/{total} {percentage}% | {rate}/s | ETA {eta_formatted}',
      formatTime: progressTime,
      barCompleteChar: '#',
      barIncompleteChar: '.',
      hideCursor: true,
      // Our own SIGINT handler stops the bars; cli-progress's would race it.
      gracefulExit: false,
      // A bar that stopped changing is otherwise not redrawn after log lines pushed it down, and vanishes.
      forceRedraw: true,
    });
    this.bars = bars;
    return {
      create: (label, total, value) => {
        const bar: SingleBar = bars.create(total, value, { label, rate: '0.0' });
        return { setTotal: (next) => bar.setTotal(next), update: (next, rate) => bar.update(next, { rate }) };
      },
    };
  }

  stopBars(): void {
    // Stopped before a counter completed (the timeout, Ctrl-C), its last value may not be printed yet.
    this.lines?.flush();
    this.lines = undefined;
    if (!this.bars) return;
    // stop() drops whatever log() buffered since the last redraw; update() flushes it and draws the final state.
    this.bars.update();
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
        'and print a summary.',
    )
    .option('--fixtures <file>', 'missions to submit (relative to the repository root)', 'fixtures/odoo_missions_mock.json')
    .option(
      '--schedules <file>',
      'recurring schedules to create and wait for one firing of each (relative to the repository root; empty for none)',
      'fixtures/schedules.json',
    )
    .option('--timeout <s>', 'seconds the missions get to finish, counted from the first submission', parsePositive, 120)
    .option('--keep-running', 'leave the system (and the demo keys) up after the summary until Ctrl-C', false)
    .option('--split', 'the four services as four processes instead of one', false)
    .option('--port <n>', "intake HTTP port (env PORT, else 3000); a free one is picked if it's taken", parsePort)
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError()
    // Commander ends with 1 for bad usage, which is also the demo's code for a mission that went wrong.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE));
  program.parse(argv);
  const options = program.opts<DemoOptions>();
  // A bad PORT is a bad variable (78, naming it), as for npm start, not an option that does not read.
  const intakePort = options.port ?? servicePorts(process.env).intake;
  // A fresh prefix per run keeps earlier runs' missions (and idempotency keys) out of this one. One
  // given is checked as the services check it: set but empty is refused (78), not taken as unset.
  const ownPrefix = process.env.KEY_PREFIX === undefined;
  const keyPrefix = ownPrefix ? `demo:${Date.now()}:` : loadEnvironment({ KEY_PREFIX: process.env.KEY_PREFIX }).KEY_PREFIX;
  // The rest of the variables the demo refuses (78), also before a Redis is resolved: a line naming
  // the Redis in use, or a private redis-server started and stopped, then the refusal, read as a run.
  childLogFormat(process.env, Boolean(process.stdout.isTTY));
  checkRedisVariables(process.env);

  const term = new Terminal();
  const launcherLog = (line: string) => term.line(`${linePrefix('launcher', term.color)}${line}`);
  const fixturesPath = path.resolve(rootDir, options.fixtures);
  const fixtures = await loadFixtures(options.fixtures);
  const schedules = options.schedules ? await loadSchedules(options.schedules) : [];

  const ports = await choosePorts(intakePort);
  if (ports.intake !== intakePort) term.line(`Port ${intakePort} is taken; the intake listens on ${ports.intake} instead.`);

  const abort = new AbortController();
  let interrupted = false;
  let system: RunningSystem | undefined;
  const onSignal = stopSignalListener({
    first: (signal) => {
      interrupted = true;
      term.stopBars();
      term.line(`${signal} received, stopping`);
      abort.abort();
    },
    again: (signal) => term.line(`${signal} again: still stopping (services get up to 10 s)`),
  });
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
    // secrets nor the local key file; keys the user configured keep working alongside it. An
    // operator, as schedules take one; with --keep-running the key is printed for the user, who
    // will want to look at the dead-letter queue the summary reports on.
    const apiKey = randomBytes(24).toString('base64url');
    const keyRole = 'operator';
    /** The run's key by name: the actor of what it changes, by which the undo finds its schedules. */
    const runKeyName = `demo-${Date.now()}`;
    // The results the review policy holds are decided by a reviewer of the demo's own, as a person would.
    const reviewerKey = randomBytes(24).toString('base64url');
    const serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> = {
      intake: {
        API_KEYS: [process.env.API_KEYS?.trim(), `${runKeyName}:${apiKey}:${keyRole}`, `demo-reviewer-${Date.now()}:${reviewerKey}:reviewer`]
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
      redis,
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

    const base = serviceUrl(process.env.LISTEN_HOST, ports.intake);
    // replay finds REDIS_URL or the local server itself; a private server's port it must be told.
    const purge = `npm run replay -- purge --prefix ${keyPrefix}${redis.origin === 'private' ? ` --redis-url ${redis.url}` : ''} --yes`;
    const intake = new IntakeClient(base, apiKey, abort.signal);
    const reviewer = new IntakeClient(base, reviewerKey, abort.signal);
    term.line(
      `Demo: ${fixtures.length} missions from ${path.relative(rootDir, fixturesPath)}; KEY_PREFIX=${keyPrefix}; ` +
        `intake ${base}; ${describeRedis(redisTargetOf(redis))}`,
    );

    let code: number;
    let tracked: Tracked[] = [];
    /** The maintenance agents the run paused and has not resumed yet: undone before the system stops (undoRunChanges). */
    let paused: string[] = [];
    /** Whether every service answered ready: the demo submits, and writes, only after. */
    let ready = false;
    try {
      if (interrupted) throw new Aborted();
      await waitReady(ports, running.listening, abort.signal, term);
      ready = true;
      tracked = fixtures.map((fixture, index): Tracked => ({ index, fixture, expected: expectedOf(fixture), approved: 0, rejected: 0 }));
      // The services log a dead letter as a warning, which would otherwise read as the demo failing.
      const meantToFail = tracked.filter((item) => item.expected === 'dead_lettered').length;
      if (meantToFail > 0)
        term.line(
          `${meantToFail} of them ${meantToFail === 1 ? 'is' : 'are'} meant to be dead-lettered (expectedOutcome in the fixtures): the services log each as a warning.`,
        );
      const deadline = Date.now() + options.timeout * 1000;
      const bars = term.startBars();
      // The maintenance agents wait while the missions arrive, so a backlog builds and the order it
      // is served in shows: the safety issues, submitted late, go first.
      // Noted before they are paused: a Ctrl-C while the pauses are sent still has them all resumed.
      paused = await onlineMaintenanceAgents(intake);
      await setAgentsStatus(intake, paused, 'paused');
      await submitAll(intake, tracked, bars);
      await setAgentsStatus(intake, paused, 'online');
      paused = [];
      await createSchedules(intake, schedules, abort.signal);
      const timedOut = !(await waitFinished(intake, reviewer, tracked, schedules, bars, deadline, abort.signal));
      term.stopBars();
      await readTimes(intake, tracked);
      code = report(tracked, schedules, timedOut, options.timeout, term);
    } catch (error) {
      term.stopBars();
      if (error instanceof Aborted && crashed !== undefined) {
        // The missions can no longer be read, but what was seen so far says how far the run got.
        if (tracked.length > 0) {
          term.line('\nAs last seen before the system stopped:');
          report(tracked, schedules, false, options.timeout, term);
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

    // The keys stay only once this line, which says how to purge them, was printed: a stop before
    // the summary ends the demo as a run without --keep-running does, its own keys deleted.
    const keptRunning = options.keepRunning && !abort.signal.aborted;
    if (keptRunning) {
      term.line(
        `\nThe system keeps running: ${base}/api/missions (KEY_PREFIX=${keyPrefix}; its keys stay in Redis: ` +
          `delete them afterwards with ${purge}).\n` +
          `This run's operator API key (missions and the dead-letter queue, ${base}/api/dlq): ${apiKey}\n` +
          `The operator console: ${base}/console/ (sign in with that key).\n` +
          `Send it as Authorization: Bearer <key>; it is valid until the demo stops. Press Ctrl-C to stop.`,
      );
      await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    // However the run ended (done, Ctrl-C, timed out, a service crashed), before the services stop.
    // What it could not undo matters only where the keys stay.
    const failures = await undoRunChanges(intake.withSignal(AbortSignal.timeout(UNDO_TIMEOUT_MS)), schedules, paused, runKeyName);
    if (failures.length > 0 && (!ownPrefix || keptRunning)) {
      term.line(`The demo could not undo, under KEY_PREFIX=${keyPrefix}:\n${failures.map((failure) => `  ${failure}`).join('\n')}`);
    }
    stopping = true;
    await running.stop();
    // A crash that came while the summary was being printed (the launcher resolves `exited` only after
    // stopping the rest) still shows here, since stop() then settles with the crash's code.
    const systemCode = await running.exited;
    if (systemCode !== 0 && crashed === undefined) {
      term.line(`A service exited on its own during the demo (code ${systemCode}); see the launcher lines above.`);
    }
    const refusedAtStart = refusedToStart(systemCode, ready);
    code = exitCodeAfterStop(code, systemCode, ready);
    // Kept only after --keep-running's lines, so the missions can still be looked at afterwards (they
    // said how to purge them), and under a KEY_PREFIX the caller gave, which may hold more than this run:
    // said, not deleted. Before the system was ready some services may have written already (with
    // --split the others start while one refuses), so then Redis is looked at. In one process a single
    // wait for Redis comes before any service is built: when it failed (69), nothing was written.
    const nothingWritten = refusedAtStart && systemCode === EXIT_REDIS_UNAVAILABLE && !options.split;
    if (!keptRunning && !nothingWritten) {
      if (ownPrefix) await deleteKeys(redis, keyPrefix, ready, term);
      else if (ready) term.line(keysStayLine(keyPrefix, purge));
      else await sayIfKeysStay(redis, keyPrefix, purge, term);
    }
    return code;
  } finally {
    // Covers a launch that failed before `system` existed; stop() is idempotent otherwise.
    await system?.stop();
    await redis.stop();
    await onSignal.copiesPassed();
  }
}

/** Whether the system stopped on a variable a service refused, or a Redis none could reach, before it was ready. */
function refusedToStart(systemCode: number, ready: boolean): boolean {
  return !ready && SYSTEM_CODES_PASSED_ON.has(systemCode);
}

/**
 * The demo's exit code once the system has stopped with `systemCode` (0: stopped by the demo),
 * `code` being the run's own: a stop signal's 130 stands; the system's 78 or 69 before it was
 * `ready` is passed on (refusedToStart); any other stop of its own, a 78 or 69 after it was ready
 * included (a crash mid-run), is 1.
 */
export function exitCodeAfterStop(code: number, systemCode: number, ready: boolean): number {
  if (systemCode === 0 || code === EXIT_INTERRUPTED) return code;
  return refusedToStart(systemCode, ready) ? systemCode : EXIT_MISMATCH;
}

/** Digits, with a decimal point if need be: Number() also takes `0x10`, `1e3` and blanks. */
const DECIMAL_NUMBER = /^\d+(?:\.\d+)?$/;

function parsePositive(value: string): number {
  const number = DECIMAL_NUMBER.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return number;
}

function parsePort(value: string): number {
  // `--port 0x10` listened on port 16, where PORT=0x10 stops npm start.
  const number = DECIMAL_INTEGER.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number < 1 || number > 65535) throw new InvalidArgumentError('must be a port from 1 to 65535');
  return number;
}

/**
 * The JSON of the file an option names (relative to the repository root), and how to name that
 * file in an error: a UsageError on one line (the parser's excerpt of the text escaped) when it
 * cannot be read or is not JSON.
 */
async function readJsonOption(option: string, given: string): Promise<{ parsed: unknown; named: string }> {
  // Quoted, so an empty value (the repository root) shows, and with anything unsafe for a terminal escaped.
  const named = `${option} ${forTerminal(JSON.stringify(given))}`;
  let text: string;
  try {
    text = await readFile(path.resolve(rootDir, given), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw new UsageError(`${named}: is a directory`);
    throw new UsageError(`${named}: cannot read: ${forTerminal(error instanceof Error ? error.message : String(error))}`);
  }
  try {
    return { parsed: JSON.parse(text), named };
  } catch (error) {
    throw new UsageError(`${named}: not JSON: ${forTerminal(error instanceof Error ? error.message : String(error))}`);
  }
}

async function loadFixtures(given: string): Promise<Fixture[]> {
  const { parsed, named } = await readJsonOption('--fixtures', given);
  if (!Array.isArray(parsed)) throw new UsageError(`${named}: expected a JSON array of missions`);
  return parsed.map((entry: unknown, index) => {
    if (!isPlainObject(entry) || typeof entry.type !== 'string' || typeof entry.title !== 'string' || !isPlainObject(entry.payload)) {
      throw new UsageError(`${named}: entry ${index} needs a string type, a string title and an object payload`);
    }
    return { ...entry, type: entry.type, title: entry.title, payload: entry.payload };
  });
}

async function loadSchedules(given: string): Promise<DemoSchedule[]> {
  const { parsed, named } = await readJsonOption('--schedules', given);
  if (!Array.isArray(parsed)) throw new UsageError(`${named}: expected a JSON array of schedules`);
  return parsed.map((entry: unknown, index) => {
    if (!isPlainObject(entry) || typeof entry.cron !== 'string' || typeof entry.timeZone !== 'string' || !isPlainObject(entry.template)) {
      throw new UsageError(`${named}: entry ${index} needs a string cron, a string timeZone and an object template`);
    }
    return { body: entry as DemoSchedule['body'], fired: 0 };
  });
}

function expectedOf(fixture: Fixture): Expected {
  return fixture.payload.expectedOutcome === 'dead_lettered' ? 'dead_lettered' : 'succeeded';
}

function isMission(value: unknown): value is Mission {
  return (
    isPlainObject(value) &&
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

/** A stream the launcher can write its prefixed lines to. */
function lineWriter(write: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      write(chunk.toString('utf8'));
      callback();
    },
  });
}

async function request(url: string, signal: AbortSignal, init: RequestInit = {}): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const deadline = deadlineSignal(10_000, signal);
  try {
    const response = await fetch(url, { ...init, signal: deadline.signal });
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
  } finally {
    deadline.clear();
  }
}

/** The intake's REST API as the demo uses it: authenticated, and patient with the rate limit. */
class IntakeClient {
  constructor(
    readonly base: string,
    private readonly apiKey: string,
    private readonly signal: AbortSignal,
  ) {}

  /** The same client, its requests ended by `signal` instead. */
  withSignal(signal: AbortSignal): IntakeClient {
    return new IntakeClient(this.base, this.apiKey, signal);
  }

  get(path: string): Promise<{ status: number; body: unknown }> {
    return this.send(path, 'GET', {});
  }

  post(path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
    return this.send(path, 'POST', { ...JSON_HEADERS, ...headers }, JSON.stringify(body));
  }

  delete(path: string): Promise<{ status: number; body: unknown }> {
    return this.send(path, 'DELETE', {});
  }

  async send(path: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: unknown }> {
    const init: RequestInit = { method, body, headers: { ...headers, authorization: `Bearer ${this.apiKey}` } };
    for (let waits = 0; ; waits++) {
      const response = await request(`${this.base}${path}`, this.signal, init);
      if (response.status !== 429 || waits >= MAX_RATE_LIMIT_WAITS) return response;
      // Polling a slow run can outpace the per-key limit; waiting is cheaper than failing the mission.
      const retryAfter = Number(response.retryAfter);
      await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 60) * 1000 : 1000, undefined, { signal: this.signal }).catch(() => {
        throw new Aborted();
      });
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

async function waitReady(ports: Record<ServiceName, number>, listening: ReadonlySet<ServiceName>, signal: AbortSignal, term: Terminal): Promise<void> {
  term.line('Waiting for the services to be ready…');
  // All four, not just the intake: a mission submitted before the orchestrator consumes would only sit in the queue,
  // but a service that never gets ready is better reported here than as a timeout later.
  try {
    await waitUntilReady(ports, { listening, timeoutMs: readyTimeoutMs(process.env), signal, listenHost: process.env.LISTEN_HOST });
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

async function submitAll(intake: IntakeClient, tracked: Tracked[], bars: Counters): Promise<void> {
  const started = Date.now();
  let done = 0;
  const bar = bars.create('submitted', tracked.length, 0);
  await inBatches(tracked, HTTP_CONCURRENCY, async (item) => {
    try {
      // The fixture's notBefore only marks it as one that starts later: a few seconds after it is sent.
      if (item.fixture.notBefore) item.notBefore = Date.now() + DELAY_MS;
      const mission = item.notBefore ? { ...item.fixture, notBefore: new Date(item.notBefore).toISOString() } : item.fixture;
      const { status, body } = await intake.post('/api/missions', mission, { 'idempotency-key': `demo-${item.index}` });
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
    bar.update(done, perSecond(done, started));
  });
}

/** The ids of the online agents that can do maintenance. */
async function onlineMaintenanceAgents(intake: IntakeClient): Promise<string[]> {
  const { status, body } = await intake.get('/api/agents');
  const agents = status === 200 && Array.isArray(body) ? body.filter(isPlainObject) : [];
  return agents
    .filter((agent) => agent.status === 'online' && Array.isArray(agent.skills) && agent.skills.includes('facility_maintenance'))
    .map((agent) => String(agent.id));
}

async function setAgentsStatus(intake: IntakeClient, ids: string[], status: 'paused' | 'online'): Promise<void> {
  await Promise.all(
    ids.map((id) => intake.send(`/api/agents/${encodeURIComponent(id)}`, 'PATCH', JSON_HEADERS, JSON.stringify({ status, reason: 'demo: build a backlog' }))),
  );
}

/**
 * Creates the run's schedules, one at a time. A Ctrl-C stops the loop between two creates, not
 * during one: a create cut off as it was sent was still made by the intake, with an id the run
 * never learnt, so undoRunChanges could not delete it and it fired every minute under the prefix.
 */
async function createSchedules(intake: IntakeClient, schedules: DemoSchedule[], abort: AbortSignal): Promise<void> {
  for (const schedule of schedules) {
    if (abort.aborted) throw new Aborted();
    let answer: { status: number; body: unknown };
    try {
      answer = await intake.withSignal(AbortSignal.timeout(UNDO_TIMEOUT_MS)).post('/api/schedules', schedule.body, {});
    } catch (error) {
      // Its own timeout, not a Ctrl-C: the run goes on, and says the schedule may have been made.
      if (!(error instanceof Aborted) || abort.aborted) throw error;
      schedule.error = `POST /api/schedules did not answer within ${UNDO_TIMEOUT_MS / 1000} s; it may have been made: GET /api/schedules lists it`;
      continue;
    }
    const { status, body } = answer;
    if (status === 201 && isPlainObject(body) && typeof body.id === 'string') schedule.id = body.id;
    else schedule.error = `POST /api/schedules answered ${status}: ${JSON.stringify(body).slice(0, 300)}`;
  }
}

/**
 * Undoes what the run changed that would outlive it: under a KEY_PREFIX the caller gave (or with
 * --keep-running) the keys stay, and a schedule left there fires every minute at the next `npm
 * start` with that prefix, agents left paused take no maintenance. The schedules are deleted, and
 * the agents still paused resumed, however the run ended; returns what failed, with how to undo it.
 * The schedules are those the run knows and every one its key (`runKeyName`) created: a create whose
 * answer never came (its timeout), or one made with the key printed by --keep-running.
 */
async function undoRunChanges(intake: IntakeClient, schedules: DemoSchedule[], paused: string[], runKeyName: string): Promise<string[]> {
  const failures: string[] = [];
  const attempt = async (what: string, undo: () => Promise<{ status: number }>, ok: (status: number) => boolean) => {
    let status = 0;
    // A 409: the schedule fired while it was being deleted, and the intake asks to delete it again.
    for (let tries = 0; tries < 3 && (tries === 0 || status === 409); tries++) {
      status = await undo().then(
        (response) => response.status,
        () => 0,
      );
    }
    if (!ok(status)) failures.push(`${what}${status ? ` (HTTP ${status})` : ''}`);
  };
  const listed = await intake.get('/api/schedules').then(
    ({ status, body }) => (status === 200 && Array.isArray(body) ? body.filter(isPlainObject).filter((schedule) => schedule.createdBy === runKeyName) : []),
    () => [],
  );
  const ids = new Set(
    [...schedules.map((schedule) => schedule.id), ...listed.map((schedule) => schedule.id)].filter((id): id is string => typeof id === 'string'),
  );
  for (const id of ids) {
    // 404: deleted already, by the user through the API or the console of a run kept running.
    await attempt(
      `delete schedule ${id}: DELETE /api/schedules/${id}`,
      () => intake.delete(`/api/schedules/${id}`),
      (status) => status === 200 || status === 404,
    );
  }
  for (const id of paused) {
    await attempt(
      `resume agent ${id}: PATCH /api/agents/${id} {"status":"online"}`,
      () => intake.send(`/api/agents/${encodeURIComponent(id)}`, 'PATCH', JSON_HEADERS, JSON.stringify({ status: 'online', reason: 'demo: ended' })),
      (status) => status === 200,
    );
  }
  return failures;
}

/** The first firing of each schedule joins the tracked missions, as the mission it created. */
async function pollSchedules(intake: IntakeClient, schedules: DemoSchedule[], tracked: Tracked[]): Promise<void> {
  for (const schedule of schedules) {
    if (!schedule.id || schedule.fired > 0) continue;
    const { status, body } = await intake.get(`/api/schedules/${schedule.id}`);
    if (status !== 200 || !isPlainObject(body) || typeof body.fired !== 'number' || body.fired === 0 || typeof body.lastMissionId !== 'string') continue;
    schedule.fired = body.fired;
    tracked.push({
      index: tracked.length,
      fixture: schedule.body.template,
      expected: 'succeeded',
      id: body.lastMissionId,
      approved: 0,
      rejected: 0,
      recurring: true,
    });
  }
}

/** When each finished mission was first assigned, and when a delayed one was queued, from its events. */
async function readTimes(intake: IntakeClient, tracked: Tracked[]): Promise<void> {
  await inBatches(tracked, HTTP_CONCURRENCY, async (item) => {
    if (!item.id) return;
    const { status, body } = await intake.get(`/api/missions/${encodeURIComponent(item.id)}/events`);
    if (status !== 200 || !Array.isArray(body)) return;
    const events = body.filter(isPlainObject);
    const assigned = events.find((event) => event.type === 'MissionAssigned');
    const due = events.find((event) => event.type === 'MissionQueued' && isPlainObject(event.data) && event.data.reason === 'due');
    if (typeof assigned?.at === 'string') item.assignedAt = Date.parse(assigned.at);
    if (typeof due?.at === 'string') item.queuedDueAt = Date.parse(due.at);
  });
}

/**
 * Polls the unfinished missions until all are finished (true) or the deadline passes (false); a
 * result awaiting review is decided by the demo's reviewer as it is seen. Each schedule's first
 * firing is waited for too, and its mission tracked with the rest.
 */
async function waitFinished(
  intake: IntakeClient,
  reviewer: IntakeClient,
  tracked: Tracked[],
  schedules: DemoSchedule[],
  bars: Counters,
  deadline: number,
  signal: AbortSignal,
): Promise<boolean> {
  const started = Date.now();
  const countFinished = () => tracked.filter((item) => item.mission && FINISHED.has(item.mission.status)).length;
  const waitingSchedules = () => schedules.filter((schedule) => schedule.id && schedule.fired === 0).length;
  const bar = bars.create('finished ', tracked.length + waitingSchedules(), countFinished());
  for (;;) {
    await pollSchedules(intake, schedules, tracked);
    // Failed submissions have no id to poll; they are mismatches already.
    const pollable = tracked.filter((item) => item.id !== undefined);
    const open = pollable.filter((item) => !(item.mission && FINISHED.has(item.mission.status)));
    if (open.length === 0 && waitingSchedules() === 0) return true;
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
    bar.setTotal(tracked.length + waitingSchedules());
    bar.update(finished, perSecond(finished, started));
    if (waitingSchedules() === 0 && pollable.every((item) => item.mission && FINISHED.has(item.mission.status))) return true;
    await sleep(POLL_INTERVAL_MS, undefined, { signal }).catch(() => {
      throw new Aborted();
    });
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

function report(tracked: Tracked[], schedules: DemoSchedule[], timedOut: boolean, timeoutSeconds: number, term: Terminal): number {
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
  term.line('');
  // Text left, numbers right, as a reader scans them; the total under a rule of its own.
  const align = header.map((_, column) => (column === 0 ? 'left' : 'right'));
  term.line(formatTable(header, rows, { align, footer: summaryRow('all', tracked) }));

  const mismatches = tracked.filter((item) => item.mission?.status !== item.expected);
  const expectedDead = tracked.filter((item) => item.expected === 'dead_lettered').length;
  const sum = (pick: (item: Tracked) => number) => tracked.reduce((total, item) => total + pick(item), 0);
  term.line('');
  term.line(
    `Reviews (REVIEW_POLICY_FILE): ${sum((item) => item.approved + item.rejected)} results reviewed, ` +
      `${sum((item) => item.approved)} approved, ${sum((item) => item.rejected)} sent back with feedback and retried.`,
  );
  for (const line of timeLines(tracked, schedules)) term.line(line);
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
  for (const schedule of schedules.filter((schedule) => schedule.error)) term.line(`  MISMATCH schedule "${schedule.body.template.title}": ${schedule.error}`);
  if (timedOut) {
    term.line(`Timed out after ${timeoutSeconds} s with ${mismatches.filter((item) => !isFinished(item)).length} mission(s) unfinished.`);
    return EXIT_TIMEOUT;
  }
  return mismatches.length === 0 && schedules.every((schedule) => !schedule.error) ? EXIT_OK : EXIT_MISMATCH;
}

/** What time did: the delayed missions, the recurring ones, and the order the waiting maintenance missions were served in. */
function timeLines(tracked: Tracked[], schedules: DemoSchedule[]): string[] {
  const lines: string[] = [];
  for (const item of tracked.filter((entry) => entry.notBefore !== undefined && entry.mission)) {
    const notBefore = item.notBefore ?? 0;
    const queued = item.queuedDueAt === undefined ? 'never queued as due' : `queued ${item.queuedDueAt - notBefore} ms after its notBefore`;
    lines.push(`Delayed start: "${item.fixture.title}" was sent with notBefore ${DELAY_MS / 1000} s later, waited scheduled, ${queued}.`);
  }
  for (const schedule of schedules.filter((entry) => entry.id)) {
    const mission = tracked.find((item) => item.recurring && item.fixture === schedule.body.template)?.mission;
    lines.push(
      `Recurring: "${schedule.body.template.title}" (cron "${schedule.body.cron}", ${schedule.body.timeZone}) ` +
        (mission ? `fired and created mission ${mission.id}, ${mission.status}.` : 'has not fired yet.'),
    );
  }
  // The maintenance missions waited for their agents together (the demo paused them while it submitted).
  const backlog = tracked
    .filter((item) => item.fixture.type === 'maintenance' && !item.recurring && item.notBefore === undefined && item.assignedAt !== undefined)
    .sort((a, b) => (a.assignedAt ?? 0) - (b.assignedAt ?? 0));
  const places = backlog.flatMap((item, place) => (item.fixture.payload.safetyIssue === true ? [{ place: place + 1, index: item.index + 1 }] : []));
  if (places.length > 0) {
    lines.push(
      `Safety first: ${backlog.length} maintenance missions waited for an agent; the ${places.length} safety issues among them ` +
        `(submitted as #${places
          .map((entry) => entry.index)
          .sort((a, b) => a - b)
          .join(', #')} of ${tracked.filter((item) => !item.recurring).length}) ` +
        `were served #${places.map((entry) => entry.place).join(', #')}.`,
    );
  }
  return lines;
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

/** How long the clean-up waits for Redis to answer at all (every master of a cluster) before it gives up on it. */
const CLEANUP_CONNECT_TIMEOUT_MS = 2_000;
/**
 * How long the look for keys under a caller's KEY_PREFIX may take: SCAN MATCH walks the whole
 * keyspace when nothing matches, half a minute on a shared Redis of tens of millions of keys.
 */
const KEY_LOOK_TIMEOUT_MS = 5_000;

/** `work`'s result, or the error `late` (after `onTimeout`, which ends what it waits on) once it took longer than `ms`. */
async function within<T>(ms: number, work: Promise<T>, onTimeout: () => void, late: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(late));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A connection to the Redis the services used, for the clean-up: one that answered within
 * CLEANUP_CONNECT_TIMEOUT_MS, or an error at its first failure (refused, wrong password) instead of
 * ioredis's 20 retries over half a minute; on the database the URL names, or an error: ioredis
 * reports a refused SELECT only as an event and carries on in database 0, another deployment's.
 */
async function cleanupConnection(redis: ResolvedRedis): Promise<RedisConnection> {
  const target = redisTargetOf(redis);
  // Its errors end up in the caller's line; the connection's own reports would only repeat them.
  const client = createRedisConnection(target, { name: 'demo-cleanup', lazyConnect: true, log: () => undefined });
  let selectRefusal: string | undefined;
  const failed = new Promise<never>((_, reject) =>
    client.on('error', (error: Error & { lastNodeError?: Error }) => {
      if (isSelectRefusal(error)) selectRefusal = error.message;
      else reject(error.lastNodeError ?? error);
    }),
  );
  try {
    const answered = masterNodes(client).then((nodes) => Promise.all(nodes.map((node) => node.ping())));
    await within(CLEANUP_CONNECT_TIMEOUT_MS, Promise.race([answered, failed]), () => undefined, `no answer within ${CLEANUP_CONNECT_TIMEOUT_MS / 1000} s`);
    const problem = isCluster(client) ? undefined : await wrongDatabase(client, redisUrlDatabase(target.REDIS_URL, 'REDIS_URL'), selectRefusal);
    if (problem) throw new Error(`${describeRedis(target)} ${problem}`);
    return client;
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

/**
 * Runs `work` on a cleanupConnection, within `limitMs` if given (a deletion runs to its end: a Redis
 * gone silent meanwhile fails it through the connection's own liveness check); `failed` is told why
 * it could not.
 * When the system never got `ready` and that Redis cannot be used (unreachable, credentials or
 * database refused), the services' own start-up check refused it too, before any of them wrote, and
 * said why: `failed` is not told then.
 */
async function onCleanupConnection(
  redis: ResolvedRedis,
  ready: boolean,
  work: (client: RedisConnection) => Promise<void>,
  failed: (reason: string) => void,
  limitMs?: number,
): Promise<void> {
  const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
  let client: RedisConnection;
  try {
    client = await cleanupConnection(redis);
  } catch (error) {
    if (ready) failed(reasonOf(error));
    return;
  }
  try {
    await (limitMs === undefined
      ? work(client)
      : within(limitMs, work(client), () => client.disconnect(), `the scan did not finish within ${limitMs / 1000} s`));
  } catch (error) {
    failed(reasonOf(error));
  } finally {
    client.disconnect();
  }
}

/**
 * SCAN+UNLINK under the demo's own prefix only (the Redis may be shared, so nothing else is
 * touched), on the Redis the services used: every master of a cluster, as `replay purge` does.
 */
async function deleteKeys(redis: ResolvedRedis, prefix: string, ready: boolean, term: Terminal): Promise<void> {
  await onCleanupConnection(
    redis,
    ready,
    async (client) => term.line(`Deleted ${await deleteKeysByPrefix(client, prefix)} demo key(s) under ${prefix}`),
    (reason) => term.line(`Could not delete the demo keys (KEY_PREFIX=${prefix}): ${reason}`),
  );
}

/** What the demo says of the keys under a KEY_PREFIX the caller gave: they stay, and how to purge them. */
function keysStayLine(prefix: string, purge: string): string {
  return `KEY_PREFIX=${prefix} was given, so its keys stay in Redis; ${purge} deletes them.`;
}

/**
 * After a start that never got ready, under a KEY_PREFIX the caller gave: keysStayLine when there are
 * keys under it (the services that started before one refused wrote some), found by a scan that
 * stops at the first.
 */
async function sayIfKeysStay(redis: ResolvedRedis, prefix: string, purge: string, term: Terminal): Promise<void> {
  await onCleanupConnection(
    redis,
    false,
    async (client) => {
      const first = await scanKeys(client, `${escapeGlob(prefix)}*`).next();
      if (!first.done) term.line(keysStayLine(prefix, purge));
    },
    (reason) => term.line(`Could not look for keys under KEY_PREFIX=${prefix} (${reason}); if there are any, ${purge} deletes them.`),
    KEY_LOOK_TIMEOUT_MS,
  );
}

/** Lets stdout drain instead of cutting the last lines off; the unref'd timer only matters if a handle lingers. */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

// Run as a script; imported (by its specs) for its exported functions only.
if (require.main === module) {
  main(process.argv).then(finish, (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof ConfigError) finish(EXIT_CONFIG);
    else finish(error instanceof UsageError ? EXIT_USAGE : EXIT_MISMATCH);
  });
}
