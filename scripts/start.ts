import * as path from 'node:path';
import { Command } from 'commander';
import { ConfigError, EXIT_CONFIG, EXIT_USAGE } from '@app/config';
import { SERVICE_NAMES, ServiceName } from '@app/messages';
import { describeRedis } from '@app/redis';
import { LOCAL_KEY_FILE } from '../apps/intake/src/auth/local-operator-key';
import {
  checkLauncherVariables,
  DEFAULT_RESTART_POLICY,
  isServiceName,
  launchSystem,
  linePrefix,
  readyMessage,
  RunningSystem,
  startExitCodesHelp,
  readyTimeoutMs,
  waitUntilReady,
} from './launcher';
import { stopSignalListener } from './stop-signal-listener';

const rootDir = path.resolve(__dirname, '..', '..');

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('start')
    .description(
      'Run the BRAIN Mission System services with one shared Redis: the Redis Cluster of REDIS_CLUSTER_NODES if set, ' +
        'else REDIS_URL if set, else 127.0.0.1:6379 if it answers, ' +
        "else a private redis-server with its data in .data/redis. PORT is the intake's (the API's) port, default 3000; " +
        'the others listen on ORCHESTRATOR_PORT, EXECUTOR_PORT and EVALUATOR_PORT, by default PORT+1, PORT+2 and PORT+3. ' +
        'With ODOO_URL set, the Odoo connector runs beside them on CONNECTOR_PORT, by default the port after the highest. ' +
        'Ctrl-C stops everything.',
    )
    .argument('[service...]', `services to run (${SERVICE_NAMES.join(', ')}); default: all`)
    .option('--split', 'all four services as four processes (as in a deployment) instead of one')
    .option('--one-process', 'all four services in one Node process, still over Redis Streams (the default when all four run)')
    .addHelpText('after', startExitCodesHelp())
    .showHelpAfterError()
    // Commander ends with 1 for bad usage, which is also a crashed service's code.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE));
  program.parse(argv);
  const modes = program.opts<{ split?: boolean; oneProcess?: boolean }>();
  if (modes.split && modes.oneProcess) program.error('error: --split and --one-process exclude each other');

  const requested = program.args;
  const unknown = requested.filter((name) => !isServiceName(name));
  if (unknown.length > 0) program.error(`error: unknown service(s): ${unknown.join(', ')}; expected ${SERVICE_NAMES.join(', ')}`);
  // Run once all the same, a service named twice was said to run twice, and four names of fewer services ran as one process.
  const repeated = requested.filter((name, index) => requested.indexOf(name) !== index);
  if (repeated.length > 0) program.error(`error: service(s) named more than once: ${[...new Set(repeated)].join(', ')}; name each once`);
  const services: ServiceName[] = requested.length > 0 ? requested.filter(isServiceName) : [...SERVICE_NAMES];
  const oneProcess = services.length === SERVICE_NAMES.length && !modes.split;
  if (modes.oneProcess && !oneProcess) program.error('error: --one-process runs all four services; name none');
  // Checked as the services check them, before anything starts: a KEY_PREFIX set but empty is refused (78), not the default.
  const keyPrefix = checkLauncherVariables(process.env).KEY_PREFIX;

  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const prefix = linePrefix('launcher', color);
  const log = (line: string) => process.stdout.write(`${prefix}${line}\n`);

  // A signal can arrive while Redis is still being resolved; remember it and stop as soon as there is something to stop.
  let system: RunningSystem | undefined;
  let stopRequested = false;
  // Ends the wait for readiness when the run ends first (Ctrl-C, or a service that died).
  const waiting = new AbortController();
  const onSignal = stopSignalListener({
    first: (signal) => {
      stopRequested = true;
      waiting.abort();
      log(`${signal} received, stopping`);
      void system?.stop();
    },
    again: (signal) => log(`${signal} again: still stopping (services get up to 10 s)`),
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  const dataDir = path.join(rootDir, '.data');
  system = await launchSystem({ services, env: process.env, dataDir, log, oneProcess, restart: oneProcess ? undefined : DEFAULT_RESTART_POLICY });
  // The password stays out of the output, and a cluster is named by its seeds; the prefix is shown, as a mistyped one would start on an empty set of keys.
  log(`${describeRedis(system.redis)}, KEY_PREFIX=${keyPrefix}; running ${services.join(', ')}${oneProcess ? ' in one process' : ''}. Press Ctrl-C to stop.`);
  if (stopRequested) void system.stop();
  void system.exited.then(() => waiting.abort());

  const ports = system.ports;
  const keyFile = path.relative(process.cwd(), path.join(dataDir, LOCAL_KEY_FILE)) || LOCAL_KEY_FILE;
  waitUntilReady(Object.fromEntries(services.map((name) => [name, ports[name]])), {
    listening: system.listening,
    timeoutMs: readyTimeoutMs(process.env),
    signal: waiting.signal,
    listenHost: process.env.LISTEN_HOST,
  }).then(
    () => log(readyMessage(ports, services, process.env, keyFile)),
    (error: unknown) => {
      if (!waiting.signal.aborted) log(`Still waiting: ${error instanceof Error ? error.message : String(error)}`);
    },
  );

  const code = await system.exited;
  await onSignal.copiesPassed();
  finish(stopRequested ? 0 : code);
}

/** Lets stdout drain instead of cutting the last lines off; the unref'd timer only matters if a handle lingers. */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`start: ${error instanceof Error ? error.message : String(error)}\n`);
  // A bad variable (the ports) ends as the services end on one: 78, so scripts tell it from a crash.
  finish(error instanceof ConfigError ? EXIT_CONFIG : 1);
});
