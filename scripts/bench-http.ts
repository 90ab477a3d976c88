import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import Redis from 'ioredis';
import { resolveRedis } from '../libs/redis/src/embedded-redis';
import { launchSystem } from './launcher';
import { CpuMeter } from './bench/cpu';
import { measureHttp } from './bench/http-load';
import { MissionFactory } from './bench/missions';
import { pidFromLauncherLine } from './bench/rss';
import { round, sleep } from './bench/stats';
import { benchServiceEnv, freePorts } from './bench/system';
import { TerminalUi } from './bench/ui';
import { deleteKeysByPrefix } from '../libs/redis/src/key-scan';

const rootDir = path.resolve(__dirname, '..', '..');

function integer(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('must be an integer ≥ 1');
  return number;
}

/**
 * `POST /api/missions` against the intake alone (no orchestrator, executor or evaluator taking
 * CPU for the missions it creates), so the figure is the HTTP create path and nothing else. Prints
 * creates/s, latency and the intake's CPU per create; the JSON object is the last line.
 */
async function main(argv: string[]): Promise<void> {
  const cli = new Command()
    .name('bench-http')
    .description('HTTP creates against the intake alone: creates/s, p99 and intake CPU per create.')
    .option('--seconds <s>', 'length of each autocannon run', integer, 10)
    .option('--connections <n>', 'autocannon connections', integer, 50)
    .option('--runs <n>', 'autocannon runs, one after the other', integer, 1)
    .option('--cpu-prof <dir>', 'write the intake\'s .cpuprofile into <dir>')
    .parse(argv)
    .opts<{ seconds: number; connections: number; runs: number; cpuProf?: string }>();
  const ui = new TerminalUi();
  const keyPrefix = `bench:${Date.now().toString(36)}:${randomBytes(3).toString('hex')}:`;
  const redisServer = await resolveRedis({ dataDir: path.join(rootDir, '.data'), log: (line) => ui.log(line), env: process.env });
  const redis = new Redis(redisServer.url);
  const apiKey = randomBytes(24).toString('base64url');
  const ports = await freePorts();
  const env = benchServiceEnv(redisServer.url, keyPrefix, cli.cpuProf, {
    API_KEYS: `bench-submit:${apiKey}:submitter`,
    RATE_LIMIT_PER_MINUTE: '100000000',
  });
  let pid: number | undefined;
  const system = await launchSystem({
    services: ['intake'],
    env,
    ports,
    dataDir: path.join(rootDir, '.data'),
    log: (line) => {
      pid = pidFromLauncherLine(line)?.pid ?? pid;
      ui.log(line);
    },
    output: process.stderr,
    color: false,
  });
  const results: Record<string, number>[] = [];
  try {
    await intakeReady(`http://127.0.0.1:${ports.intake}/health/ready`);
    // Redis on this machine (the usual case) is metered too: its share of a create is part of the cost.
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]) || undefined;
    const meter = new CpuMeter(() => ({ intake: pid, redis: redisPid }));
    const factory = new MissionFactory();
    for (let run = 0; run < cli.runs; run++) {
      const before = meter.mark();
      const http = await measureHttp(`http://127.0.0.1:${ports.intake}`, apiKey, factory, { seconds: cli.seconds, connections: cli.connections }, ui);
      const cpu = CpuMeter.between(before, meter.mark());
      const intakeCores = cpu.processes.intake ?? NaN;
      const perCreate = (cores: number | undefined) => round(((cores ?? NaN) * cpu.seconds * 1000) / Math.max(1, http.ok2xx), 3);
      results.push({
        creates_per_s: round(http.createsPerSecond),
        p50_ms: http.p50Ms,
        p99_ms: http.p99Ms,
        non2xx: http.non2xx + http.errors + http.timeouts,
        intake_cores: round(intakeCores, 2),
        intake_cpu_ms_per_create: perCreate(intakeCores),
        redis_cpu_ms_per_create: perCreate(cpu.processes.redis),
        machine_busy: round(cpu.machineBusy ?? NaN, 2),
      });
      ui.log(`run ${run + 1}: ${JSON.stringify(results[results.length - 1])}`);
    }
  } finally {
    await system.stop();
    await deleteKeysByPrefix(redis, keyPrefix);
    redis.disconnect();
    await redisServer.stop().catch(() => undefined);
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

async function intakeReady(url: string): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const status = await fetch(url).then((response) => response.status, () => 0);
    if (status === 200) return;
    if (Date.now() > until) throw new Error(`${url} not ready after 60 s (last status ${status})`);
    await sleep(200);
  }
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`bench-http: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
