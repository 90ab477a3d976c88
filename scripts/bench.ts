import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import Redis from 'ioredis';
import { SERVICE_NAMES, ServiceName } from '@app/messages';
import { resolveRedis, ResolvedRedis, deleteKeysByPrefix, redactUrl } from '@app/redis';
import { BenchOptions, DEFAULT_OPTIONS, SMOKE_OPTIONS } from './bench/options';
import { formatReport } from './bench/report';
import { pidsFromLauncherLine } from './bench/rss';
import { BenchReport, GuestDataSwitch, Mode, runBench, summarize } from './bench/run-bench';
import { BenchAborted } from './bench/stats';
import { benchServiceEnv, freePorts, withoutGuestDataNodeOptions } from './bench/system';
import { TerminalUi } from './bench/ui';
import { LaunchOptions, launchSystem, linePrefix, readyTimeoutMs, RunningSystem, serviceUrl, waitUntilReady } from './launcher';

const rootDir = path.resolve(__dirname, '..', '..');
/** The largest RATE_LIMIT_PER_MINUTE the intake accepts: the limiter still runs, it just never says no. */
const GENEROUS_RATE_LIMIT = 100_000_000;

const number =
  (min: number, integer: boolean) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
      throw new InvalidArgumentError(`must be ${integer ? 'an integer' : 'a number'} ≥ ${min}`);
    return n;
  };

/** Option name → field of BenchOptions; `--smoke` sets small defaults, and an option given explicitly still wins. */
function parseOptions(argv: string[]): { bench: BenchOptions; mode: Mode; guestData: GuestDataSwitch; keepKeys: boolean } {
  const d = DEFAULT_OPTIONS;
  const program = new Command()
    .name('bench')
    .description(
      'Start the four services against Redis under a fresh KEY_PREFIX and measure throughput, latency at a fixed rate, HTTP creates, rebuild/verify, ' +
        'Redis bytes and CPU per mission and peak RSS; then the same work on the peers (a BullMQ pipeline, bare node:http + XADD, a raw XRANGE read) ' +
        'and the ratios. Prints a table and, as the last line, one JSON object.',
    )
    .option('--missions <n>', 'missions of the throughput phase (0 skips it)', number(0, true), d.missions)
    .option('--rate <n>', 'offered missions/s of the latency phase (0 skips it)', number(0, false), d.rate)
    .option('--duration <s>', 'seconds of the latency phase', number(0.1, false), d.duration)
    .option('--llm-latency-ms <ms>', 'MOCK_LLM_LATENCY_MS of the executor', number(0, true), d.llmLatencyMs)
    .option('--http-seconds <s>', 'seconds of the HTTP phase', number(1, true), d.httpSeconds)
    .option('--http-connections <n>', 'autocannon connections', number(1, true), d.httpConnections)
    .option('--skip-http', 'skip the HTTP phase', false)
    .option('--replay-events <n>', 'events of the synthetic log for the replay figures (0: the run log only)', number(0, true), d.replayEvents)
    .option('--skip-replay', 'skip rebuild/verify and the raw read', false)
    .option('--skip-peers', 'skip the peers (and so the ratios)', false)
    .option('--agent-capacity-scale <k>', "multiply every agent's capacity first (1 = the 43 seeded slots)", number(0.01, false), d.agentCapacityScale)
    .option('--footprint-sample <n>', 'finished missions sampled for the footprint', number(1, true), d.footprintSample)
    .addOption(
      new Option('--mode <mode>', 'the services as four processes, or in one (passed to the launcher)')
        .choices(['split', 'one-process'])
        .default(process.env.BENCH_MODE || 'split'),
    )
    .addOption(
      new Option('--guest-data <on|off>', 'off: the services seal nothing (no data subject resolved), to measure what guest data costs')
        .choices(['on', 'off'])
        .default('on'),
    )
    .option('--smoke', 'a few hundred missions and short phases, peers included, for CI', false)
    .option('--keep-keys', "leave this run's keys in Redis (for a look afterwards)", false)
    .showHelpAfterError();
  program.parse(argv);
  const cli = program.opts<BenchOptions & { mode: Mode; guestData: GuestDataSwitch; keepKeys: boolean }>();
  if (cli.mode !== 'split' && cli.mode !== 'one-process') program.error(`BENCH_MODE must be 'split' or 'one-process', not '${String(cli.mode)}'`);
  const bench: BenchOptions = { ...d, ...(cli.smoke ? SMOKE_OPTIONS : {}) };
  for (const field of Object.keys(d) as (keyof BenchOptions)[]) {
    if (program.getOptionValueSource(field) === 'cli' || (!cli.smoke && field in cli)) (bench as unknown as Record<string, unknown>)[field] = cli[field];
  }
  return { bench, mode: cli.mode, guestData: cli.guestData, keepKeys: cli.keepKeys };
}

/** A stream the launcher writes its prefixed service lines to. */
function lineWriter(write: (line: string) => void): Writable {
  let buffered = '';
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const lines = (buffered + chunk.toString('utf8')).split('\n');
      buffered = lines.pop() ?? '';
      lines.forEach(write);
      callback();
    },
  });
}

async function main(argv: string[]): Promise<number> {
  const { bench: options, mode: askedMode, guestData, keepKeys } = parseOptions(argv);
  const ui = new TerminalUi();
  const abort = new AbortController();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return ui.log(`${signal} again: still stopping the services and deleting the keys`);
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
  const pids: Partial<Record<ServiceName, number>> = {};
  let system: RunningSystem | undefined;
  let report: BenchReport | undefined;
  let failure: unknown;
  try {
    const ports = await freePorts();
    const apiKey = randomBytes(24).toString('base64url');
    const operatorKey = randomBytes(24).toString('base64url');
    const serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> = {
      intake: { API_KEYS: `bench-submit-${Date.now()}:${apiKey}:submitter,bench-operator-${Date.now()}:${operatorKey}:operator` },
    };
    ui.log(
      `bench: KEY_PREFIX=${keyPrefix}; Redis ${redactUrl(redisServer.url)}; ports ${SERVICE_NAMES.map((n) => `${n} ${ports[n]}`).join(', ')}; ` +
        `mode ${askedMode}; guest data ${guestData}; mock LLM latency ${options.llmLatencyMs} ms${options.smoke ? '; smoke run' : ''}`,
    );
    const launch: LaunchOptions = {
      services: [...SERVICE_NAMES],
      env: benchServiceEnv(redisServer.url, keyPrefix, {
        LLM_PROVIDER: 'mock',
        MOCK_LLM_LATENCY_MS: String(options.llmLatencyMs),
        MOCK_LLM_FAILURE_RATE: '0',
        MOCK_LLM_MALFORMED_RATE: '0',
        MOCK_LLM_FLAW_RATE: '0',
        RATE_LIMIT_PER_MINUTE: String(GENEROUS_RATE_LIMIT),
        // The bench measures one Redis, so one log partition: its figures read that partition's keys.
        LOG_PARTITIONS: '1',
        ...(guestData === 'off' ? { NODE_OPTIONS: withoutGuestDataNodeOptions(process.env.NODE_OPTIONS) } : {}),
      }),
      serviceEnv,
      ports,
      dataDir: path.join(rootDir, '.data'),
      log: (line) => {
        Object.assign(pids, pidsFromLauncherLine(line));
        launcherLog(line);
      },
      output: lineWriter((line) => ui.log(line)),
      color: false,
      ...(askedMode === 'one-process' ? { oneProcess: true } : {}),
    };
    system = await launchSystem(launch);
    void system.exited.then((code) => {
      if (abort.signal.aborted || code === 0) return;
      ui.close();
      ui.log(`A service stopped on its own (exit code ${code}); ending the bench.`);
      failure ??= new Error(`a service exited unexpectedly (code ${code})`);
      abort.abort();
    });
    await waitUntilReady(ports, {
      listening: system.listening,
      timeoutMs: readyTimeoutMs(process.env),
      signal: abort.signal,
      listenHost: process.env.LISTEN_HOST,
    }).catch((error: unknown) => {
      throw abort.signal.aborted ? new BenchAborted() : error;
    });
    const mode: Mode = new Set(Object.values(pids)).size === 1 ? 'one-process' : 'split';
    if (mode !== askedMode)
      ui.log(`bench: asked for mode ${askedMode}, but the launcher started ${mode === 'split' ? 'four processes' : 'one process'}: reporting ${mode}`);
    ui.log(`Ready: ${SERVICE_NAMES.map((n) => `${n} pid ${pids[n] ?? '?'}`).join(', ')}`);
    report = await runBench(
      {
        redis,
        redisUrl: redisServer.url,
        keyPrefix,
        http: { baseUrl: serviceUrl(process.env.LISTEN_HOST, ports.intake), apiKey, operatorKey },
        pids: () => pids,
        mode,
        guestData,
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
    if (keepKeys) ui.log(`Keys kept under ${keyPrefix}`);
    else {
      await deleteKeysByPrefix(redis, keyPrefix).then(
        (deleted) => ui.log(`Deleted ${deleted} key(s) under ${keyPrefix}`),
        (error: unknown) => ui.log(`Could not delete the keys under ${keyPrefix}: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
    redis.disconnect();
    await redisServer.stop().catch(() => undefined);
  }

  if (interrupted && !(failure && !(failure instanceof BenchAborted))) {
    process.stderr.write('bench: interrupted; no figures\n');
    return 130;
  }
  if (failure || !report) {
    process.stderr.write(`bench: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}\n`);
    // The last line stays one JSON object, with nothing measured.
    process.stdout.write(`${JSON.stringify(report?.summary ?? summarize(undefined))}\n`);
    return 1;
  }
  report.revision = codeRevision;
  process.stdout.write(`${formatReport(report)}\n\n${JSON.stringify(report.summary)}\n`);
  return 0;
}

/** HEAD and how many files differ from it (read-only git), since the services change while the bench runs. */
function revision(): string | undefined {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: rootDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const dirty = git('--no-optional-locks', 'status', '--porcelain').split('\n').filter(Boolean).length;
    return `git ${git('rev-parse', '--short', 'HEAD').trim()}${dirty > 0 ? ` + ${dirty} uncommitted file(s)` : ''}`;
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
