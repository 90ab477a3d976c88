import { execFileSync } from 'node:child_process';
import { Command, InvalidArgumentError } from 'commander';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { resolveRedis, ResolvedRedis } from '../libs/redis/src/embedded-redis';
import { launchSystem, linePrefix, RunningSystem, SERVICE_NAMES, ServiceName, waitUntilReady } from './launcher';
import { BenchOptions, DEFAULT_OPTIONS, SMOKE_OPTIONS } from './bench/options';
import { formatReport } from './bench/report';
import { findServicePids, pidFromLauncherLine, Service } from './bench/rss';
import { BenchReport, emptySummaryLine, runBench } from './bench/run-bench';
import { BenchAborted } from './bench/stats';
import { benchServiceEnv, freePorts } from './bench/system';
import { TerminalUi } from './bench/ui';
import { deleteKeysByPrefix } from '../libs/redis/src/key-scan';

const rootDir = path.resolve(__dirname, '..', '..');
const READY_TIMEOUT_MS = 60_000;
/** The largest RATE_LIMIT_PER_MINUTE the intake accepts: the limiter still runs, it just never says no. */
const GENEROUS_RATE_LIMIT = 100_000_000;

interface CliOptions {
  missions: number;
  rate: number;
  duration: number;
  llmLatencyMs: number;
  httpSeconds: number;
  httpConnections: number;
  skipHttp: boolean;
  replayEvents: number;
  skipReplay: boolean;
  syntheticWriter: BenchOptions['syntheticWriter'];
  footprintSample: number;
  agentCapacityScale: number;
  smoke: boolean;
  cpuProf?: string;
  keepKeys: boolean;
}

function integer(min: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
    return number;
  };
}

function nonNegative(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new InvalidArgumentError('must be a number ≥ 0');
  return number;
}

function positive(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('must be a positive number');
  return number;
}

function parseOptions(argv: string[]): { bench: BenchOptions; cli: CliOptions } {
  const program = new Command()
    .name('bench')
    .description(
      'Start the four services against Redis under a fresh KEY_PREFIX and measure throughput, latency at a fixed rate, ' +
        'HTTP intake, replay (rebuild/verify), Redis bytes per mission and peak RSS. Prints a table and, as the last line, one JSON object.',
    )
    .option('--missions <n>', 'missions of the throughput phase (0 skips it)', integer(0), DEFAULT_OPTIONS.missions)
    .option('--rate <n>', 'offered missions/s of the latency phase (0 skips it)', nonNegative, DEFAULT_OPTIONS.rate)
    .option('--duration <s>', 'seconds of the latency phase', positive, DEFAULT_OPTIONS.duration)
    .option('--llm-latency-ms <ms>', 'MOCK_LLM_LATENCY_MS of the executor', integer(0), DEFAULT_OPTIONS.llmLatencyMs)
    .option('--http-seconds <s>', 'seconds of the HTTP phase', integer(1), DEFAULT_OPTIONS.httpSeconds)
    .option('--http-connections <n>', 'autocannon connections', integer(1), DEFAULT_OPTIONS.httpConnections)
    .option('--skip-http', 'skip the HTTP phase', false)
    .option('--replay-events <n>', 'events of the synthetic log for the replay figures (0 skips it)', integer(0), DEFAULT_OPTIONS.replayEvents)
    .option('--skip-replay', 'skip rebuild/verify entirely', false)
    .option(
      '--synthetic-writer <kind>',
      "who writes the synthetic log: 'auto' (scripts/make-audit-log when built, else append), 'make-audit-log' or 'append' (MissionStore.append)",
      (value: string) => {
        if (value !== 'auto' && value !== 'make-audit-log' && value !== 'append') throw new InvalidArgumentError("must be 'auto', 'make-audit-log' or 'append'");
        return value;
      },
      DEFAULT_OPTIONS.syntheticWriter,
    )
    .option('--agent-capacity-scale <k>', "multiply every agent's capacity first (1 = the 43 seeded slots)", positive, DEFAULT_OPTIONS.agentCapacityScale)
    .option('--footprint-sample <n>', 'finished missions sampled for the Redis footprint', integer(1), DEFAULT_OPTIONS.footprintSample)
    .option('--smoke', 'a few hundred missions and short phases, for CI (explicit options still win)', false)
    .option('--cpu-prof <dir>', 'write a .cpuprofile per service into <dir> (inspector preload; summarise with dist/scripts/bench/profile-summary.js)')
    .option('--keep-keys', "leave this run's keys in Redis (for a look afterwards)", false)
    .showHelpAfterError();
  program.parse(argv);
  const cli = program.opts<CliOptions>();
  const explicit = (name: keyof CliOptions) => program.getOptionValueSource(name) === 'cli';
  const bench: BenchOptions = { ...DEFAULT_OPTIONS, ...(cli.smoke ? SMOKE_OPTIONS : {}) };
  const fields: (keyof CliOptions & keyof BenchOptions)[] = [
    'missions', 'rate', 'duration', 'llmLatencyMs', 'httpSeconds', 'httpConnections', 'skipHttp', 'replayEvents', 'skipReplay', 'syntheticWriter',
    'footprintSample', 'agentCapacityScale',
  ];
  for (const field of fields) {
    if (explicit(field) || !cli.smoke) (bench as unknown as Record<string, unknown>)[field] = cli[field];
  }
  bench.skipHttp = cli.skipHttp;
  bench.skipReplay = cli.skipReplay;
  return { bench, cli };
}

/** A stream the launcher writes its prefixed service lines to. */
function lineWriter(write: (line: string) => void): Writable {
  let buffered = '';
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) write(line);
      callback();
    },
  });
}

async function main(argv: string[]): Promise<number> {
  const { bench: options, cli } = parseOptions(argv);
  const ui = new TerminalUi();
  const abort = new AbortController();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      ui.log(`${signal} again: still stopping the services and deleting the keys`);
      return;
    }
    interrupted = true;
    ui.close();
    ui.log(`${signal} received: stopping`);
    abort.abort();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  const launcherLog = (line: string) => ui.log(`${linePrefix('launcher', false)}${line}`);
  const codeRevision = revision();
  const keyPrefix = `bench:${Date.now().toString(36)}:${randomBytes(3).toString('hex')}:`;
  const redisServer: ResolvedRedis = await resolveRedis({ dataDir: path.join(rootDir, '.data'), log: launcherLog, env: process.env });
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 20 });
  redis.on('error', () => undefined);
  const pids: Partial<Record<Service, number>> = {};
  let system: RunningSystem | undefined;
  let report: BenchReport | undefined;
  let failure: unknown;
  try {
    const ports = await freePorts();
    const apiKey = randomBytes(24).toString('base64url');
    const operatorKey = randomBytes(24).toString('base64url');
    const env = benchServiceEnv(redisServer.url, keyPrefix, cli.cpuProf, {
      LLM_PROVIDER: 'mock',
      MOCK_LLM_LATENCY_MS: String(options.llmLatencyMs),
      MOCK_LLM_FAILURE_RATE: '0',
      MOCK_LLM_MALFORMED_RATE: '0',
      MOCK_LLM_FLAW_RATE: '0',
      RATE_LIMIT_PER_MINUTE: String(GENEROUS_RATE_LIMIT),
      // The bench measures one Redis, so one log partition: its figures read that partition's keys.
      LOG_PARTITIONS: '1',
    });
    const serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> = {
      intake: { API_KEYS: `bench-submit-${Date.now()}:${apiKey}:submitter,bench-operator-${Date.now()}:${operatorKey}:operator` },
    };

    ui.log(
      `bench: KEY_PREFIX=${keyPrefix}; Redis ${redisServer.url}; ports ${SERVICE_NAMES.map((n) => `${n} ${ports[n]}`).join(', ')}; ` +
        `mock LLM latency ${options.llmLatencyMs} ms${options.smoke ? '; smoke run' : ''}`,
    );
    system = await launchSystem({
      services: [...SERVICE_NAMES],
      env,
      serviceEnv,
      ports,
      dataDir: path.join(rootDir, '.data'),
      log: (line) => {
        const started = pidFromLauncherLine(line);
        if (started) pids[started.service] = started.pid;
        launcherLog(line);
      },
      output: lineWriter((line) => ui.log(line)),
      color: false,
    });
    void system.exited.then((code) => {
      if (abort.signal.aborted || code === 0) return;
      ui.close();
      ui.log(`A service stopped on its own (exit code ${code}); ending the bench.`);
      failure ??= new Error(`a service exited unexpectedly (code ${code})`);
      abort.abort();
    });
    await waitUntilReady(ports, { timeoutMs: READY_TIMEOUT_MS, signal: abort.signal }).catch((error: unknown) => {
      throw abort.signal.aborted ? new BenchAborted() : error;
    });
    ui.log(`Ready: ${SERVICE_NAMES.map((n) => `${n} pid ${pids[n] ?? '?'}`).join(', ')}`);

    report = await runBench(
      {
        redis,
        keyPrefix,
        redisUrl: redisServer.url,
        http: { baseUrl: `http://127.0.0.1:${ports.intake}`, apiKey, operatorKey },
        pids: () => (Object.keys(pids).length === SERVICE_NAMES.length ? pids : { ...findServicePids(), ...pids }),
        mode: 'processes',
        metricsUrls: Object.fromEntries(SERVICE_NAMES.map((name) => [name, `http://127.0.0.1:${ports[name]}/metrics`])),
        signal: abort.signal,
      },
      options,
      ui,
    );
  } catch (error) {
    failure ??= error;
  } finally {
    ui.close();
    if (system) await system.stop().catch((error: unknown) => ui.log(`stopping the services failed: ${String(error)}`));
    if (cli.keepKeys) ui.log(`Keys kept under ${keyPrefix}`);
    else {
      try {
        const deleted = await deleteKeysByPrefix(redis, keyPrefix);
        ui.log(`Deleted ${deleted} key(s) under ${keyPrefix}`);
      } catch (error) {
        ui.log(`Could not delete the keys under ${keyPrefix}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    redis.disconnect();
    await redisServer.stop().catch(() => undefined);
  }

  if (interrupted && !(failure && !(failure instanceof BenchAborted))) {
    process.stderr.write('bench: interrupted; no figures\n');
    return 130;
  }
  if (failure) {
    process.stderr.write(`bench: ${failure instanceof Error ? failure.stack ?? failure.message : String(failure)}\n`);
    // The last line stays one JSON object, with nothing measured.
    process.stdout.write(`${JSON.stringify(report?.summary ?? emptySummaryLine())}\n`);
    return 1;
  }
  if (!report) return 1;
  report.revision = codeRevision;
  process.stdout.write(`${formatReport(report)}\n\n`);
  process.stdout.write(`${JSON.stringify(report.summary)}\n`);
  return 0;
}

/** HEAD and how many files differ from it (read-only git), since the services change while the bench runs. */
function revision(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: rootDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['--no-optional-locks', 'status', '--porcelain'], { cwd: rootDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean).length;
    return `git ${head}${dirty > 0 ? ` + ${dirty} uncommitted file(s)` : ''}`;
  } catch {
    return undefined;
  }
}

/** Lets stdout drain; the unref'd timer only matters if a handle lingers. */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

main(process.argv).then(finish, (error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  finish(1);
});
