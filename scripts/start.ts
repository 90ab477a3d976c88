import { Command } from 'commander';
import * as path from 'node:path';
import { isServiceName, launchSystem, linePrefix, RunningSystem, SERVICE_NAMES, ServiceName } from './launcher';

const rootDir = path.resolve(__dirname, '..', '..');

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('start')
    .description(
      'Run the BRAIN Mission System services with one shared Redis: REDIS_URL if set, else 127.0.0.1:6379 if it answers, ' +
        'else a private redis-server with its data in .data/redis. Ctrl-C stops everything.',
    )
    .argument('[service...]', `services to run (${SERVICE_NAMES.join(', ')}); default: all`)
    .showHelpAfterError();
  program.parse(argv);

  const requested = program.args;
  const unknown = requested.filter((name) => !isServiceName(name));
  if (unknown.length > 0) program.error(`error: unknown service(s): ${unknown.join(', ')}; expected ${SERVICE_NAMES.join(', ')}`);
  const services: ServiceName[] = requested.length > 0 ? requested.filter(isServiceName) : [...SERVICE_NAMES];

  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const prefix = linePrefix('launcher', color);
  const log = (line: string) => process.stdout.write(`${prefix}${line}\n`);

  // A signal can arrive while Redis is still being resolved; remember it and stop as soon as there is something to stop.
  let system: RunningSystem | undefined;
  let stopRequested = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      log(`${signal} again: still stopping (services get up to 10 s)`);
      return;
    }
    stopRequested = true;
    log(`${signal} received, stopping`);
    void system?.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  system = await launchSystem({ services, env: process.env, dataDir: path.join(rootDir, '.data'), log });
  log(`Redis at ${system.redisUrl}; running ${services.join(', ')}. Press Ctrl-C to stop.`);
  if (stopRequested) void system.stop();

  const code = await system.exited;
  finish(stopRequested ? 0 : code);
}

/** Lets stdout drain instead of cutting the last lines off; the unref'd timer only matters if a handle lingers. */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`start: ${error instanceof Error ? error.message : String(error)}\n`);
  finish(1);
});
