import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type Redis from 'ioredis';
import { KeyLayout } from '../../libs/event-store/src/key-layout';
import { finishedCounts, finishedTotal, waitForFinished } from './completion';
import { CpuMeter, CpuUse } from './cpu';
import { agentCapacity, scaleAgentCapacity } from './agents';
import { Footprint, measureFootprint } from './footprint';
import { HttpResult, measureHttp } from './http-load';
import { LatencyResult, measureLatency } from './latency';
import { MissionFactory } from './missions';
import { BenchOptions } from './options';
import { loadAudit, MakeAuditLogError, makeAuditLogScript, measureReplay, ReplayFigures, runMakeAuditLog, SyntheticLog, writeSyntheticLog } from './replay';
import { HeapPeak, HeapSampler } from './heap';
import { processMemory, RssSampler, Service, SERVICES } from './rss';
import { BenchAborted, finiteOrNull } from './stats';
import { ThroughputResult, measureThroughput } from './throughput';
import type { BenchUi } from './ui';
import { silentUi } from './ui';
import { deleteKeysByPrefix } from '../../libs/redis/src/key-scan';

/** The system under test, however it was started (four processes, or four Nest apps in a test process). */
export interface BenchTarget {
  /** A connection of the bench's own (submission, polling, reading the log, MEMORY USAGE). */
  redis: Redis;
  keyPrefix: string;
  /** For helpers in other processes (make-audit-log); absent → the synthetic log is written from here. */
  redisUrl?: string;
  /** The intake's HTTP API; absent → the HTTP phase is skipped. */
  http?: { baseUrl: string; apiKey: string; operatorKey?: string };
  /** Each service's Prometheus endpoint, for what its memory is made of (heap vs buffers). */
  metricsUrls?: Partial<Record<Service, string>>;
  /** Process id of each service, for its peak RSS. */
  pids(): Partial<Record<Service, number>>;
  /** "4 processes" or "in-process": the RSS figures mean different things. */
  mode: 'processes' | 'in-process';
  signal?: AbortSignal;
}

/** The last line of the bench: exactly these keys. */
export interface BenchSummary {
  missions_per_s: number | null;
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
  http_creates_per_s: number | null;
  http_p99_ms: number | null;
  rebuild_events_per_s: number | null;
  verify_events_per_s: number | null;
  redis_bytes_per_mission: number | null;
  rss_mb: Record<Service, number | null>;
}

export interface DrainResult {
  missions: number;
  ms: number;
}

export interface RssFigures {
  mode: BenchTarget['mode'];
  pids: Partial<Record<Service, number>>;
  peakMb: Partial<Record<Service, number>>;
  currentMb: Partial<Record<Service, number>>;
  /** RSS when the bench started (the services ready and idle). */
  idleMb: Partial<Record<Service, number>>;
  sampledMaxMb: Partial<Record<Service, number>>;
  /** Largest V8 heap / external memory seen on /metrics (sampled every 2 s). */
  heapPeak: Partial<Record<Service, HeapPeak>>;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  redis: string;
  /** 1/5/15-minute load averages when the bench started and ended: other work on the machine skews every figure. */
  loadStart: number[];
  loadEnd?: number[];
}

export interface BenchReport {
  options: BenchOptions;
  machine: MachineInfo;
  keyPrefix: string;
  /** The agent registry the phases ran against. */
  agents?: { agents: number; slots: number; scaledFrom?: number; scale: number };
  /** Where the code stood (set by the CLI): the services change while this is written. */
  revision?: string;
  throughput?: ThroughputResult;
  latency?: LatencyResult;
  http?: HttpResult;
  drain?: DrainResult;
  footprint?: Footprint;
  rss?: RssFigures;
  replayRun?: ReplayFigures;
  syntheticLog?: SyntheticLog;
  replaySynthetic?: ReplayFigures;
  /** Cores used per process in each phase (and 'all'), from /proc. */
  cpu: Record<string, CpuUse>;
  /** Why a figure is missing (phase → reason). */
  skipped: Record<string, string>;
  /** Anything a reader of the figures should know. */
  notes: string[];
  summary: BenchSummary;
  totalMs: number;
}

/**
 * Runs every phase against `target` and returns the figures; the caller owns the system (start,
 * stop, key cleanup). Phases run one after the other and each waits until its missions are
 * finished, so they do not overlap. A phase that fails is recorded (its figure null, the reason in
 * `skipped`) and the rest still run; Ctrl-C (the target's signal) ends the run.
 */
export async function runBench(target: BenchTarget, options: BenchOptions, ui: BenchUi = silentUi): Promise<BenchReport> {
  const started = Date.now();
  const keys = new KeyLayout(target.keyPrefix);
  const redis = target.redis;
  const signal = target.signal;
  const factory = new MissionFactory();
  const report: BenchReport = {
    options,
    machine: await machineInfo(redis),
    keyPrefix: target.keyPrefix,
    cpu: {},
    skipped: {},
    notes: [],
    summary: emptySummaryLine(),
    totalMs: 0,
  };
  const finishedIds: string[] = [];
  const rssSampler = new RssSampler(() => target.pids());
  rssSampler.start();
  const heapSampler = new HeapSampler(target.metricsUrls ?? {});
  if (target.metricsUrls) heapSampler.start();
  const idleMb: Partial<Record<Service, number>> = {};
  for (const [service, pid] of Object.entries(target.pids()) as [Service, number][]) {
    const memory = processMemory(pid);
    if (memory) idleMb[service] = memory.currentMb;
  }
  const redisPid = await localRedisPid(redis);
  const meter = new CpuMeter(() => ({ bench: process.pid, ...target.pids(), redis: redisPid }));
  const runMark = meter.mark();

  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T | undefined> => {
    if (signal?.aborted) throw new BenchAborted();
    ui.log(`— ${name}`);
    const mark = meter.mark();
    try {
      return await work();
    } catch (error) {
      if (error instanceof BenchAborted || signal?.aborted) throw error instanceof BenchAborted ? error : new BenchAborted();
      const reason = error instanceof Error ? error.message : String(error);
      report.skipped[name] = `failed: ${reason}`;
      ui.log(`${name} failed: ${reason}`);
      return undefined;
    } finally {
      report.cpu[name] = CpuMeter.between(mark, meter.mark());
    }
  };

  try {
    if (target.http) {
      const http = target.http;
      report.agents = await phase('agents', async () => {
        if (options.agentCapacityScale !== 1) {
          if (!http.operatorKey) throw new Error('scaling agent capacity needs an operator key');
          const scaled = await scaleAgentCapacity(http.baseUrl, http.operatorKey, options.agentCapacityScale);
          return { agents: scaled.agents, slots: scaled.slotsAfter, scaledFrom: scaled.slotsBefore, scale: scaled.scale };
        }
        const { agents, slots } = await agentCapacity(http.baseUrl, http.operatorKey ?? http.apiKey);
        return { agents, slots, scale: 1 };
      });
    }

    if (options.missions > 0) {
      report.throughput = await phase('throughput', async () => {
        const result = await measureThroughput(
          redis,
          keys,
          factory,
          { missions: options.missions, submitBatch: options.submitBatch, stallTimeoutS: options.stallTimeoutS, timeoutS: options.phaseTimeoutS, signal },
          ui,
        );
        for (const id of result.missionIds) finishedIds.push(id);
        return result;
      });
    } else report.skipped.throughput = 'skipped (--missions 0)';

    if (options.rate > 0 && options.duration > 0) {
      report.latency = await phase('latency', async () => {
        const result = await measureLatency(
          redis,
          keys,
          factory,
          { rate: options.rate, duration: options.duration, stallTimeoutS: options.stallTimeoutS, timeoutS: options.phaseTimeoutS, signal },
          ui,
        );
        for (const id of result.missionIds) finishedIds.push(id);
        return result;
      });
    } else report.skipped.latency = 'skipped (--rate 0 or --duration 0)';

    if (options.skipHttp) report.skipped.http = 'skipped (--skip-http)';
    else if (!target.http) report.skipped.http = 'skipped (no HTTP endpoint)';
    else {
      const http = target.http;
      report.http = await phase('http', () =>
        measureHttp(http.baseUrl, http.apiKey, factory, { seconds: options.httpSeconds, connections: options.httpConnections, signal }, ui),
      );
      // The HTTP phase's missions flow through the pipeline like any other; the footprint and the
      // replay want a system at rest, so they wait until everything created is finished.
      report.drain = await phase('drain', async () => {
        const baseline = await finishedCounts(redis, keys);
        const drainStarted = Date.now();
        const total = await redis.zcard(keys.partitions[0].missionIndex);
        const bar = ui.bar('drain (http)', Math.max(1, total - finishedTotal(baseline)));
        try {
          await waitForFinished(redis, keys, {
            target: total,
            baseline,
            bar,
            stallTimeoutS: options.stallTimeoutS,
            timeoutS: options.phaseTimeoutS,
            signal,
            retarget: () => redis.zcard(keys.partitions[0].missionIndex),
          });
        } finally {
          bar.stop();
        }
        return { missions: total - finishedTotal(baseline), ms: Date.now() - drainStarted };
      });
    }

    report.footprint = await phase('footprint', async () => {
      // Without throughput or latency missions (e.g. an HTTP-only run), any mission of the index; unfinished ones are skipped.
      const ids = finishedIds.length > 0 ? finishedIds : await redis.zrange(keys.partitions[0].missionIndex, 0, -1);
      if (ids.length === 0) throw new Error('no missions to sample');
      return measureFootprint(redis, keys, ids, options.footprintSample, [syntheticPrefix(target.keyPrefix)], signal);
    });

    // Peak RSS of the load phases; the replay phases below run in the bench process, not in the services.
    rssSampler.sample();
    await heapSampler.sample();
    report.rss = rssFigures(target, rssSampler, idleMb, heapSampler);

    if (options.skipReplay) report.skipped.replay = 'skipped (--skip-replay)';
    else {
      const audit = loadAudit();
      if (!audit.ok) {
        report.skipped.replay = audit.reason;
        ui.log(`replay skipped: ${audit.reason}`);
      } else {
        report.replayRun = await phase('replay (run log)', () => measureReplay(audit.audit, redis, keys, 'run log', ui, signal));
        if (options.replayEvents > 0) {
          const script = options.syntheticWriter === 'append' ? undefined : makeAuditLogScript();
          try {
            report.syntheticLog = await phase('synthetic log', async () => {
              if (options.syntheticWriter === 'make-audit-log' && !script) throw new Error('dist/scripts/make-audit-log.js is not built');
              if (script && target.redisUrl) {
                try {
                  const log = await runMakeAuditLog(script, target.redisUrl, options.replayEvents, ui, signal);
                  log.events = await redis.xlen(new KeyLayout(log.keyPrefix).partitions[0].log);
                  log.writeMs = log.eventsPerSecond > 0 ? (log.events / log.eventsPerSecond) * 1000 : NaN;
                  return log;
                } catch (error) {
                  if (error instanceof MakeAuditLogError && error.keyPrefix) await deleteKeysByPrefix(redis, error.keyPrefix);
                  throw error;
                }
              }
              return writeSyntheticLog(redis, new KeyLayout(syntheticPrefix(target.keyPrefix)), options.replayEvents, factory.templates, ui, signal);
            });
            const synthetic = report.syntheticLog;
            if (synthetic) {
              report.replaySynthetic = await phase('replay (synthetic)', () =>
                measureReplay(audit.audit, redis, new KeyLayout(synthetic.keyPrefix), 'synthetic', ui, signal),
              );
            }
          } finally {
            // Hundreds of MB on a shared server: gone as soon as it has been measured.
            if (report.syntheticLog) await deleteKeysByPrefix(redis, report.syntheticLog.keyPrefix).catch(() => undefined);
          }
        } else report.skipped['replay (synthetic)'] = 'skipped (--replay-events 0)';
      }
    }
  } finally {
    rssSampler.stop();
    heapSampler.stop();
    report.cpu.all = CpuMeter.between(runMark, meter.mark());
  }

  report.machine.loadEnd = loadavg();
  addNotes(report);
  report.summary = summarize(report);
  report.totalMs = Date.now() - started;
  return report;
}

/** The synthetic replay log lives under the run's prefix (so cleanup takes it) but apart from the system's keys. */
export function syntheticPrefix(keyPrefix: string): string {
  return `${keyPrefix}synthetic:`;
}

function rssFigures(target: BenchTarget, sampler: RssSampler, idleMb: Partial<Record<Service, number>>, heaps: HeapSampler): RssFigures {
  const pids = target.pids();
  const figures: RssFigures = { mode: target.mode, pids, peakMb: {}, currentMb: {}, sampledMaxMb: {}, idleMb, heapPeak: {} };
  for (const service of SERVICES) {
    const heap = heaps.peak(service);
    if (heap) figures.heapPeak[service] = heap;
  }
  for (const service of SERVICES) {
    const pid = pids[service];
    if (pid === undefined) continue;
    const memory = processMemory(pid);
    if (memory) {
      figures.peakMb[service] = memory.peakMb;
      figures.currentMb[service] = memory.currentMb;
    }
    const sampled = sampler.maxSampledMb(service);
    if (sampled !== undefined) figures.sampledMaxMb[service] = sampled;
  }
  return figures;
}

function addNotes(report: BenchReport): void {
  const { notes } = report;
  notes.push('Event timestamps (`at`) are ISO strings with millisecond resolution: latencies are whole ms, each ±1 ms.');
  if (report.throughput && report.throughput.deadLettered > 0) {
    notes.push(`${report.throughput.deadLettered} throughput mission(s) were dead-lettered; missions/s counts only those that succeeded.`);
  }
  if (report.latency) {
    const { offeredRate, achievedRate, maxScheduleLagMs } = report.latency;
    if (achievedRate < offeredRate * 0.95) {
      notes.push(`The latency phase offered only ${achievedRate.toFixed(0)}/s of the ${offeredRate}/s asked (the bench could not keep up).`);
    }
    if (maxScheduleLagMs > 50) notes.push(`A latency batch left up to ${maxScheduleLagMs.toFixed(0)} ms behind its schedule.`);
    const { completedRate } = report.latency;
    if (Number.isFinite(completedRate) && completedRate < offeredRate * 0.95) {
      notes.push(
        `The latency phase's missions finished at ${completedRate.toFixed(0)}/s, below the ${offeredRate}/s offered: a backlog built up, ` +
          'so its latencies are mostly waiting time and grow with --duration.',
      );
    }
  }
  if (report.http && report.http.non2xx + report.http.errors > 0) {
    notes.push(
      `HTTP: ${report.http.non2xx} non-2xx response(s) (${JSON.stringify(report.http.statusCodes)}) and ${report.http.errors} error(s), ${report.http.timeouts} timeout(s).`,
    );
  }
  const all = report.cpu.all;
  if (all?.others !== null && all?.others !== undefined && all.others > 0.2) {
    notes.push(
      `Other work on the machine used ${all.others.toFixed(2)} of the ${all.cpus} CPUs on average during the run ` +
        `(load average ${report.machine.loadStart.map((l) => l.toFixed(1)).join('/')} at the start): the figures are lower than on an idle machine.`,
    );
  }
  if (report.rss?.mode === 'in-process') {
    notes.push('The services ran inside one process: every rss_mb figure is the peak RSS of that one process (bench included).');
  }
  for (const [label, replay] of [['run log', report.replayRun], ['synthetic log', report.replaySynthetic]] as const) {
    if (replay && !replay.verifyOk) {
      notes.push(`verifyLog over the ${label} reported ${replay.findings} finding(s) ${JSON.stringify(replay.findingKinds)}; first: ${replay.firstFinding}`);
    }
  }
}

/** All figures null: the JSON line of a run that measured nothing. */
export function emptySummaryLine(): BenchSummary {
  return {
    missions_per_s: null,
    latency_ms: { p50: null, p95: null, p99: null },
    http_creates_per_s: null,
    http_p99_ms: null,
    rebuild_events_per_s: null,
    verify_events_per_s: null,
    redis_bytes_per_mission: null,
    rss_mb: { intake: null, orchestrator: null, executor: null, evaluator: null },
  };
}

/**
 * The JSON line. The replay figures are those of the synthetic log when there is one (large and
 * the same every run), else those of the run's own log.
 */
export function summarize(report: BenchReport): BenchSummary {
  const replay = report.replaySynthetic ?? report.replayRun;
  const rss = Object.fromEntries(SERVICES.map((service) => [service, finiteOrNull(report.rss?.peakMb[service], 1)])) as Record<Service, number | null>;
  return {
    missions_per_s: finiteOrNull(report.throughput?.missionsPerSecond),
    latency_ms: {
      p50: finiteOrNull(report.latency?.createdToPassed.p50),
      p95: finiteOrNull(report.latency?.createdToPassed.p95),
      p99: finiteOrNull(report.latency?.createdToPassed.p99),
    },
    http_creates_per_s: finiteOrNull(report.http?.createsPerSecond),
    http_p99_ms: finiteOrNull(report.http?.p99Ms),
    rebuild_events_per_s: finiteOrNull(replay?.rebuildEventsPerSecond),
    verify_events_per_s: finiteOrNull(replay?.verifyEventsPerSecond),
    redis_bytes_per_mission: finiteOrNull(report.footprint?.bytesPerMission),
    rss_mb: rss,
  };
}

/** The Redis server's pid when it runs on this machine (its CPU is then accounted), else undefined. */
async function localRedisPid(redis: Redis): Promise<number | undefined> {
  try {
    const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    if (!pid || !existsSync(`/proc/${pid}/cmdline`)) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server') ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function machineInfo(redis: Redis): Promise<MachineInfo> {
  let version = 'unknown';
  try {
    const info = await redis.info('server');
    version = /redis_version:(\S+)/.exec(info)?.[1] ?? version;
  } catch {
    // Reported as unknown.
  }
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model?.trim() ?? 'unknown', node: process.version, redis: version, loadStart: loadavg() };
}
