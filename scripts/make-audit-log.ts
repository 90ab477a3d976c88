import { Command, InvalidArgumentError } from 'commander';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { v7 as uuidv7 } from 'uuid';
import { exportLog, importLog } from '../libs/audit/src/export-import';
import { rebuildReadModels } from '../libs/audit/src/rebuild';
import { sha1Hex } from '../libs/audit/src/stored-log';
import { verifyLog } from '../libs/audit/src/verify';
import { KeyLayout } from '../libs/event-store/src/key-layout';
import { MISSION_HASH_FIELDS as F } from '../libs/event-store/src/mission-hash-fields';
import { deleteKeysByPrefix } from '../libs/redis/src/key-scan';
import {
  Decision,
  decideAssign,
  decideCancel,
  decideComplete,
  decideCreate,
  decideEvaluate,
  decideFail,
  decideRequeue,
  decideRetry,
  decideStart,
} from '../libs/mission/src/decide';
import { evolve } from '../libs/mission/src/evolve';
import { CURRENT_SCHEMA_VERSION, Evaluation, MissionEvent, MissionResult, NewMissionEvent } from '../libs/mission/src/mission-events';
import type { Mission } from '../libs/mission/src/mission-state';
import { MISSION_TYPES, PRIORITY_LEVELS } from '../libs/mission/src/mission-type';

/**
 * make-audit-log: measures the audit tools on a large log.
 *
 * Writes a realistic event log straight into Redis (missions × 8 events on average, stored JSON with
 * correct hash chains computed here, XADD pipelines of 5,000), with the read model an append would
 * leave; then times verify, rebuild and (with --roundtrip) export and import, and deletes every key
 * it made (unless --keep). Not a test: run it by hand after `npm run build`:
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

/** Events per pipeline while writing. */
const WRITE_BATCH = 5_000;
/** Missions whose events interleave in the log, as concurrent work does. */
const INTERLEAVE = 1_000;
const START = Date.parse('2025-06-01T00:00:00.000Z');

type Step = { actor: string; decide: (mission: Mission) => Decision };

const result = (attempt: number): MissionResult => ({
  output: { reply: `Attempt ${attempt}: the guest's request is confirmed; housekeeping and the front desk are informed. Schönen Aufenthalt!` },
  model: 'mock-model',
  latencyMs: 900 + attempt * 150,
  usage: { promptTokens: 420, completionTokens: 96 },
  costUsd: 0.00042,
});

const evaluation = (attempt: number, passed: boolean): Evaluation => ({
  attempt,
  score: passed ? 0.91 : 0.42,
  passed,
  criteria: [
    { criterion: 'answers_request', weight: 0.6, score: passed ? 0.95 : 0.4 },
    { criterion: 'tone', weight: 0.4, score: passed ? 0.85 : 0.45 },
  ],
  reason: passed ? 'answers the request and stays polite' : 'does not confirm a time for the guest',
  rubricVersion: 'guest_support@1',
  judge: 'rules',
});

/** Four histories after creation (2 events): 6, 10, 8 and 8 events in all, so 8 on average. */
const HISTORIES: Step[][] = [
  [
    { actor: 'orchestrator', decide: (m) => decideAssign(m, 'agent-lena') },
    { actor: 'executor', decide: (m) => decideStart(m, 1) },
    { actor: 'executor', decide: (m) => decideComplete(m, 1, result(1)) },
    { actor: 'evaluator', decide: (m) => decideEvaluate(m, evaluation(1, true)) },
  ],
  [
    { actor: 'orchestrator', decide: (m) => decideAssign(m, 'agent-omar') },
    { actor: 'executor', decide: (m) => decideStart(m, 1) },
    { actor: 'executor', decide: (m) => decideFail(m, 1, 'LLM timeout after 30 s') },
    { actor: 'orchestrator', decide: (m) => decideRetry(m, 1, 3) },
    { actor: 'orchestrator', decide: (m) => decideAssign(m, 'agent-lena') },
    { actor: 'executor', decide: (m) => decideStart(m, 2) },
    { actor: 'executor', decide: (m) => decideComplete(m, 2, result(2)) },
    { actor: 'evaluator', decide: (m) => decideEvaluate(m, evaluation(2, true)) },
  ],
  [
    { actor: 'orchestrator', decide: (m) => decideAssign(m, 'agent-zoe') },
    { actor: 'executor', decide: (m) => decideStart(m, 1) },
    { actor: 'executor', decide: (m) => decideComplete(m, 1, result(1)) },
    { actor: 'evaluator', decide: (m) => decideEvaluate(m, evaluation(1, false)) },
    { actor: 'evaluator', decide: (m) => decideRetry(m, 1, 1) },
    { actor: 'api-key:ops', decide: (m) => decideRequeue(m, 'prompt fixed') },
  ],
  [
    { actor: 'orchestrator', decide: (m) => decideAssign(m, 'agent-omar') },
    { actor: 'executor', decide: (m) => decideStart(m, 1) },
    { actor: 'executor', decide: (m) => decideComplete(m, 1, result(1)) },
    { actor: 'evaluator', decide: (m) => decideEvaluate(m, evaluation(1, false)) },
    { actor: 'evaluator', decide: (m) => decideRetry(m, 1, 3) },
    { actor: 'api-key:front-desk', decide: (m) => decideCancel(m, 'guest checked out early') },
  ],
];

interface Building {
  id: string;
  state: Mission | null;
  hash: string;
  lastEventId: string;
  steps: Step[];
  next: number;
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
    const written = await writeLog(redis, keys, options.missions);
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

/** Appends `missions` missions' histories the way append-mission-events.lua stores them; returns the number of events. */
async function writeLog(redis: Redis, keys: KeyLayout, missions: number): Promise<number> {
  const [seconds] = await redis.time();
  const baseMs = Number(seconds) * 1000;
  let logHash = '';
  let seq = 0;
  let pipeline = redis.pipeline();
  let pending = 0;
  /** Log entry ids per mission since the last flush: one RPUSH per mission, not per event. */
  let listed = new Map<string, string[]>();
  const counts = new Map<string, number>();
  const flush = async () => {
    for (const [missionId, ids] of listed) pipeline.rpush(keys.missionEvents(missionId), ...ids);
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    pipeline = redis.pipeline();
    listed = new Map();
    pending = 0;
  };

  const append = (mission: Building, events: NewMissionEvent[], actor: string) => {
    const at = new Date(START + seq * 20).toISOString();
    const correlationId = mission.state?.correlationId ?? uuidv7();
    for (const event of events) {
      const version = (mission.state?.version ?? 0) + 1;
      const envelope = {
        eventId: uuidv7(),
        type: event.type,
        missionId: mission.id,
        version,
        at,
        actor,
        correlationId,
        causationId: mission.lastEventId || correlationId,
        schemaVersion: CURRENT_SCHEMA_VERSION,
        data: event.data,
      } as MissionEvent;
      const json = JSON.stringify(envelope);
      const stored = `${json.slice(0, -1)},"prevHash":"${mission.hash}","logPrevHash":"${logHash}"}`;
      const logId = `${baseMs}-${seq++}`;
      pipeline.xadd(keys.partitions[0].log, logId, 'm', mission.id, 'e', stored);
      const ids = listed.get(mission.id);
      if (ids) ids.push(logId);
      else listed.set(mission.id, [logId]);
      if (version === 1) pipeline.zadd(keys.partitions[0].missionIndex, Date.parse(at), mission.id);
      mission.state = evolve(mission.state, envelope);
      mission.hash = sha1Hex(stored);
      mission.lastEventId = envelope.eventId;
      logHash = mission.hash;
      pending++;
    }
  };

  for (let first = 0; first < missions; first += INTERLEAVE) {
    const group: Building[] = [];
    for (let i = first; i < Math.min(first + INTERLEAVE, missions); i++) {
      const mission: Building = { id: `bench-${i}`, state: null, hash: '', lastEventId: '', steps: HISTORIES[i % HISTORIES.length], next: 0 };
      const now = new Date(START + seq * 20);
      append(
        mission,
        decideCreate(
          {
            type: MISSION_TYPES[i % MISSION_TYPES.length],
            title: `Guest request #${i}: late check-out and extra towels`,
            description: 'Guest in room 204 asks for a 14:00 check-out on departure day and two extra bath towels this evening.',
            priority: PRIORITY_LEVELS[i % PRIORITY_LEVELS.length],
            payload: { room: String(100 + (i % 400)), guest: { name: 'Anna Schmidt', vip: i % 7 === 0 }, bookingRef: `SO-2026-${i}`, revenueAtStake: (i % 20) * 100 },
          },
          now,
        ),
        'intake',
      );
      group.push(mission);
    }
    // Step through the group's histories in rounds, so the missions' events interleave.
    for (let active = group; active.length > 0; active = active.filter((m) => m.next < m.steps.length)) {
      for (const mission of active) {
        const step = mission.steps[mission.next++];
        const state = mission.state;
        if (!state) throw new Error(`${mission.id} has no state`);
        const decision = step.decide(state);
        if (decision.kind !== 'append') throw new Error(`${mission.id}: ${decision.reason}`);
        append(mission, decision.events, step.actor);
        if (pending >= WRITE_BATCH) await flush();
      }
    }
    for (const mission of group) {
      const state = mission.state;
      if (!state) continue;
      pipeline.hset(keys.mission(mission.id), { [F.version]: String(state.version), [F.status]: state.status, [F.state]: JSON.stringify(state), [F.lastEventHash]: mission.hash });
      counts.set(state.status, (counts.get(state.status) ?? 0) + 1);
    }
    await flush();
  }
  pipeline.hset(keys.partitions[0].statusCounts, Object.fromEntries(counts));
  pipeline.set(keys.partitions[0].logHead, logHash);
  await flush();
  return seq;
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
