import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import Redis from 'ioredis';
import { exportLog, importLog, rebuildReadModels, verifyLog } from '@app/audit';
import { KeyLayout } from '@app/event-store';
import { deleteKeysByPrefix } from '@app/redis';
import { writeSyntheticLog } from './bench/synthetic-log';

/**
 * make-audit-log (`npm run audit:bench`): measures the audit tools on a large log.
 *
 * Writes the bench's synthetic log (scripts/bench/synthetic-log.ts: missions × 8 events on
 * average, with the read model an append would leave) under a fresh prefix, then times verify,
 * rebuild and (with --roundtrip) export and import, and deletes every key it made (unless --keep).
 *
 *   node dist/scripts/make-audit-log.js [--missions 62500] [--repeat 3] [--roundtrip] [--keep]
 */

interface Options {
  missions: number;
  repeat: number;
  redisUrl: string;
  roundtrip: boolean;
  keep: boolean;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('make-audit-log')
    .description('Write a large realistic event log under a fresh prefix, time verify and rebuild (and export/import), then delete it.')
    .option('--missions <n>', 'missions to write (8 events each on average)', parsePositive, 62_500)
    .option('--redis-url <url>', 'Redis (env REDIS_URL)', process.env.REDIS_URL || 'redis://127.0.0.1:6379')
    .option('--repeat <n>', 'run verify and rebuild this many times each (the machine may be busy)', parsePositive, 1)
    .option('--roundtrip', 'also time export to a file and import into a second prefix', false)
    .option('--keep', 'leave the keys in Redis (prints the prefix)', false);
  program.parse(argv);
  const options = program.opts<Options>();

  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3 });
  const keys = new KeyLayout(`audit-bench:${Date.now()}:${randomBytes(3).toString('hex')}:`);
  const copy = new KeyLayout(`${keys.prefix}copy:`);
  const file = path.join(tmpdir(), `audit-bench-${process.pid}.jsonl`);
  const report: [string, string][] = [];
  // Ctrl-C must not leave half a million events in a shared Redis.
  process.once('SIGINT', () => {
    process.stderr.write(`\nInterrupted; deleting the keys under ${keys.prefix}\n`);
    void deleteKeysByPrefix(redis, keys.prefix).finally(() => process.exit(130));
  });
  const rate = (events: number, ms: number) => `${Math.round((events / ms) * 1000).toLocaleString('en-US')} events/s (${(ms / 1000).toFixed(1)} s)`;
  // Wall time depends on how busy the machine is; this process's CPU time much less so.
  let cpuMark = process.cpuUsage();
  const cpu = (events: number) => {
    const used = process.cpuUsage(cpuMark);
    cpuMark = process.cpuUsage();
    const seconds = (used.user + used.system) / 1e6;
    return `; Node CPU ${seconds.toFixed(1)} s = ${Math.round(events / seconds).toLocaleString('en-US')} events per CPU-second`;
  };
  try {
    let started = performance.now();
    cpuMark = process.cpuUsage();
    const written = await writeSyntheticLog(redis, keys, options.missions);
    report.push(['write (generate + XADD pipelines)', rate(written, performance.now() - started) + cpu(written)]);
    const memory = await redis.memory('USAGE', keys.partitions[0].log);
    report.push(['log size in Redis', `${((memory ?? 0) / 1024 / 1024).toFixed(0)} MB for ${written.toLocaleString('en-US')} events`]);

    for (let round = 1; round <= options.repeat; round++) {
      const tag = options.repeat > 1 ? ` #${round}` : '';
      cpuMark = process.cpuUsage();
      const verified = await verifyLog(redis, keys);
      if (!verified.ok) throw new Error(`verify failed on the generated log: ${JSON.stringify(verified.findings.slice(0, 5))}`);
      report.push([`verify${tag}`, rate(verified.events, verified.ms) + cpu(verified.events)]);

      const rebuilt = await rebuildReadModels(redis, keys);
      report.push([`rebuild${tag}`, `${rate(rebuilt.events, rebuilt.ms)}${cpu(rebuilt.events)}; ${JSON.stringify(rebuilt.timings)}`]);
      if (rebuilt.unchanged + rebuilt.switched !== options.missions) {
        throw new Error(`rebuild found ${rebuilt.unchanged} unchanged and switched ${rebuilt.switched} of ${options.missions}`);
      }
    }
    const again = await verifyLog(redis, keys);
    if (!again.ok) throw new Error(`verify failed after rebuild: ${JSON.stringify(again.findings.slice(0, 5))}`);
    report.push(['verify after rebuild', rate(again.events, again.ms)]);

    if (options.roundtrip) {
      started = performance.now();
      const out = createWriteStream(file);
      cpuMark = process.cpuUsage();
      const exported = await exportLog(redis, keys, out);
      out.end();
      await once(out, 'finish');
      report.push(['export to file', rate(exported.exported, performance.now() - started) + cpu(exported.exported)]);
      const imported = await importLog(redis, copy, createReadStream(file));
      report.push(['import from file', rate(imported.events, imported.ms) + cpu(imported.events)]);
      const copied = await verifyLog(redis, copy);
      if (!copied.ok) throw new Error(`verify failed on the imported copy: ${JSON.stringify(copied.findings.slice(0, 5))}`);
      report.push(['verify of the import', rate(copied.events, copied.ms) + cpu(copied.events)]);
    }
    report.push(['peak RSS of this process', `${Math.round(process.resourceUsage().maxRSS / 1024)} MB`]);
  } finally {
    await rm(file, { force: true });
    if (options.keep) process.stdout.write(`Keys kept under ${keys.prefix}\n`);
    else {
      const deleted = (await deleteKeysByPrefix(redis, keys.prefix)) + (await deleteKeysByPrefix(redis, copy.prefix));
      report.push(['cleanup', `${deleted} keys deleted`]);
    }
    await redis.quit();
    const width = Math.max(...report.map(([name]) => name.length));
    for (const [name, value] of report) process.stdout.write(`${name.padEnd(width)}  ${value}\n`);
  }
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`make-audit-log: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
