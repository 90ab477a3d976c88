import { cpus, loadavg } from 'node:os';
import type Redis from 'ioredis';
import { KeyLayout } from '@app/event-store';
import { SERVICE_NAMES, ServiceName } from '@app/messages';
import { deleteKeysByPrefix } from '@app/redis';
import { agentCapacity, scaleAgentCapacity } from './agents';
import { Footprint, measureFootprint } from './footprint';
import { GuestDataCost, measureGuestDataCost } from './guest-data-cost';
import { HttpResult, measureHttp } from './http-load';
import { finishedTotal, LatencyResult, measureLatency, measureThroughput, PhaseResult, waitForFinished } from './load';
import { MissionFactory } from './missions';
import { BenchOptions } from './options';
import { BareHttp, BullmqPeer, BullmqRun, DEFAULT_PEER_DIR, startBareHttp } from './peers';
import { servicesCpu } from './process-cpu';
import { measureReplay, rawRead, ReplayFigures } from './replay';
import { processMemory } from './rss';
import { BenchAborted, finiteOrNull, ratioOf } from './stats';
import { writeSyntheticLog } from './synthetic-log';
import { redisCpuMs } from './system';
import { BenchUi, silentUi } from './ui';

/** Four service processes, or all four in one process (then every RSS figure is that process's). */
export type Mode = 'split' | 'one-process';

/** Guest data sealed as in production (`on`), or the same missions with nothing sealed, to measure what sealing costs (`off`). */
export type GuestDataSwitch = 'on' | 'off';

/** The system under test, however it was started (four processes, one process, or a test process). */
export interface BenchTarget {
  /** A connection of the bench's own (submission, polling, reading the log, MEMORY USAGE, INFO). */
  redis: Redis;
  /** The same Redis, for the peers' processes. */
  redisUrl: string;
  keyPrefix: string;
  /** The intake's HTTP API; absent → the HTTP phase is skipped. */
  http?: { baseUrl: string; apiKey: string; operatorKey?: string };
  /** Process id of each service, for its RSS. */
  pids(): Partial<Record<ServiceName, number>>;
  mode: Mode;
  /** `off`: the services run with no data subject resolved, so nothing is sealed (`--guest-data off`). */
  guestData: GuestDataSwitch;
  /** Where the compiled peer processes are (bullmq-stage.js, bare-http.js); default dist/scripts/bench/peers. */
  peerDir?: string;
  signal?: AbortSignal;
}

type Figure = number | null;

/** The last line of the bench: exactly these keys. */
export interface BenchSummary {
  mode: Mode;
  guest_data: GuestDataSwitch;
  missions_per_s: Figure;
  latency_ms: { p50: Figure; p95: Figure; p99: Figure };
  http_creates_per_s: Figure;
  http_p99_ms: Figure;
  rebuild_events_per_s: Figure;
  verify_events_per_s: Figure;
  redis_bytes_per_mission: Figure;
  /** Redis server CPU over the throughput phase ÷ its missions (the server may be shared). */
  redis_cpu_ms_per_mission: Figure;
  /** CPU of the services' processes (user + system, all four) over the throughput phase ÷ its missions. */
  services_cpu_ms_per_mission: Figure;
  /** CPU of sealing and opening guest data per mission of the fixtures, as the services do it (measured in the bench's process). */
  guest_data_cpu_ms_per_mission: Figure;
  rss_mb: Record<ServiceName, Figure>;
  peers: {
    bullmq: { missions_per_s: Figure; p99_ms: Figure; redis_bytes_per_mission: Figure; redis_cpu_ms_per_mission: Figure };
    bare_http: { creates_per_s: Figure; p99_ms: Figure };
    raw_read: { events_per_s: Figure };
  };
  /** The system's figure ÷ the peer's (docs/performance.md § 2 has the targets). */
  ratios: { missions_per_s_vs_bullmq: Figure; p99_vs_bullmq: Figure; http_vs_bare: Figure; rebuild_vs_raw_read: Figure };
}

export interface BenchReport {
  options: BenchOptions;
  machine: { cpus: number; cpuModel: string; node: string; redis: string; loadStart: number[] };
  keyPrefix: string;
  mode: Mode;
  guestDataSwitch: GuestDataSwitch;
  revision?: string;
  agents?: { agents: number; slots: number; scaledFrom?: number; scale: number };
  throughput?: PhaseResult;
  redisCpuMsPerMission?: number;
  /** The services' CPU over the throughput phase ÷ its missions: per process (the services it runs), and in all. */
  servicesCpuMsPerMission?: { total: number; byProcess: { services: ServiceName[]; ms: number }[] };
  guestData?: GuestDataCost;
  latency?: LatencyResult;
  http?: HttpResult;
  drain?: { missions: number; ms: number };
  footprint?: Footprint;
  rss?: { pids: Partial<Record<ServiceName, number>>; idleMb: Partial<Record<ServiceName, number>>; peakMb: Partial<Record<ServiceName, number>> };
  replayRun?: ReplayFigures;
  syntheticLog?: { missions: number; events: number; writeMs: number };
  replaySynthetic?: ReplayFigures;
  peers: {
    bullmqThroughput?: BullmqRun;
    bullmqLatency?: BullmqRun;
    bullmqBytesPerMission?: number;
    bareHttp?: HttpResult;
    rawRead?: { events: number; eventsPerSecond: number };
  };
  /** Why a figure is missing (phase → reason). */
  skipped: Record<string, string>;
  notes: string[];
  summary: BenchSummary;
  totalMs: number;
}

/**
 * Runs every phase against `target`, then the same work on the peers, and returns the figures; the
 * caller owns the system (start, stop, key cleanup). Phases run one after the other and each waits
 * until its missions are finished, so they do not overlap. A phase that fails is recorded (its
 * figure null, the reason in `skipped`) and the rest still run; the target's signal ends the run.
 */
export async function runBench(target: BenchTarget, options: BenchOptions, ui: BenchUi = silentUi): Promise<BenchReport> {
  const started = Date.now();
  const { redis, signal } = target;
  const keys = new KeyLayout(target.keyPrefix);
  const factory = new MissionFactory();
  const report: BenchReport = {
    options,
    machine: await machineInfo(redis),
    keyPrefix: target.keyPrefix,
    mode: target.mode,
    guestDataSwitch: target.guestData,
    peers: {},
    skipped: {},
    notes: [],
    summary: summarize(undefined),
    totalMs: 0,
  };
  const finishedIds: string[] = [];
  const idleMb = memoryOf(target.pids(), 'currentMb');

  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T | undefined> => {
    if (signal?.aborted) throw new BenchAborted();
    ui.log(`— ${name}`);
    try {
      return await work();
    } catch (error) {
      if (error instanceof BenchAborted || signal?.aborted) throw error instanceof BenchAborted ? error : new BenchAborted();
      const reason = error instanceof Error ? error.message : String(error);
      report.skipped[name] = `failed: ${reason}`;
      ui.log(`${name} failed: ${reason}`);
      return undefined;
    }
  };
  const load = { stallTimeoutS: options.stallTimeoutS, timeoutS: options.phaseTimeoutS, signal };

  if (target.http) {
    const http = target.http;
    report.agents = await phase('agents', async () => {
      if (options.agentCapacityScale === 1) return { ...(await agentCapacity(http.baseUrl, http.operatorKey ?? http.apiKey)), scale: 1 };
      if (!http.operatorKey) throw new Error('scaling agent capacity needs an operator key');
      const scaled = await scaleAgentCapacity(http.baseUrl, http.operatorKey, options.agentCapacityScale);
      return { agents: scaled.agents, slots: scaled.slotsAfter, scaledFrom: scaled.slotsBefore, scale: options.agentCapacityScale };
    });
  }

  if (options.missions > 0) {
    report.throughput = await phase('throughput', async () => {
      const cpuBefore = await redisCpuMs(redis);
      const servicesCpuSince = servicesCpu(target.pids());
      const result = await measureThroughput(redis, keys, factory, options.missions, options.submitBatch, load, ui);
      report.redisCpuMsPerMission = ((await redisCpuMs(redis)) - cpuBefore) / result.missions;
      const used = servicesCpuSince();
      if (used)
        report.servicesCpuMsPerMission = {
          total: used.totalMs / result.missions,
          byProcess: used.byPid.map(({ services, ms }) => ({ services, ms: ms / result.missions })),
        };
      finishedIds.push(...result.missionIds);
      return result;
    });
  } else report.skipped.throughput = 'skipped (--missions 0)';

  if (options.missions > 0) {
    report.guestData = await phase('guest data', () =>
      measureGuestDataCost(redis, guestDataPrefix(target.keyPrefix), factory, options.missions, target.mode === 'one-process', ui, signal),
    );
  } else report.skipped['guest data'] = 'skipped (--missions 0)';

  if (options.rate > 0 && options.duration > 0) {
    report.latency = await phase('latency', async () => {
      const result = await measureLatency(redis, keys, factory, { ...load, rate: options.rate, duration: options.duration }, ui);
      finishedIds.push(...result.missionIds);
      return result;
    });
  } else report.skipped.latency = 'skipped (--rate 0 or --duration 0)';

  const http = target.http;
  if (options.skipHttp || !http) report.skipped.http = options.skipHttp ? 'skipped (--skip-http)' : 'skipped (no HTTP endpoint)';
  else {
    const httpLoad = { seconds: options.httpSeconds, connections: options.httpConnections, requests: options.httpRequests, signal };
    report.http = await phase('http', () => measureHttp(http.baseUrl, http.apiKey, factory, httpLoad, ui));
    // The HTTP missions flow through the pipeline; the footprint and the replay want a system at rest.
    report.drain = await phase('drain', async () => {
      const { total: baseline } = await finishedTotal(redis, keys);
      const drainStarted = Date.now();
      const created = () => redis.zcard(keys.partitions[0].missionIndex);
      const bar = ui.bar('drain (http)', (await created()) - baseline);
      await waitForFinished(redis, keys, created, baseline, bar, load).finally(() => bar.stop());
      return { missions: (await created()) - baseline, ms: Date.now() - drainStarted };
    });
  }

  report.footprint = await phase('footprint', async () => {
    // Without throughput or latency missions (an HTTP-only run), any mission of the index; unfinished ones are skipped.
    const ids = finishedIds.length > 0 ? finishedIds : await redis.zrange(keys.partitions[0].missionIndex, 0, -1);
    if (ids.length === 0) throw new Error('no missions to sample');
    return measureFootprint(redis, keys, ids, options.footprintSample, [syntheticPrefix(target.keyPrefix), peerPrefix(target.keyPrefix)], signal);
  });
  // Peak RSS of the load phases (VmHWM); the peers and the replay below do not run in the services.
  const pids = target.pids();
  report.rss = { pids, idleMb, peakMb: memoryOf(pids, 'peakMb') };

  if (options.skipPeers) report.skipped.peers = 'skipped (--skip-peers)';
  else await runPeers(target, options, factory, report, phase, ui);

  if (options.skipReplay) report.skipped.replay = 'skipped (--skip-replay)';
  else await runReplay(target, options, report, phase, ui);

  addNotes(report);
  report.summary = summarize(report);
  report.totalMs = Date.now() - started;
  return report;
}

type Phase = <T>(name: string, work: () => Promise<T>) => Promise<T | undefined>;

/** The peers do the work of the phases that ran, on the same Redis, one after the other, each under `<prefix>peer:`. */
async function runPeers(target: BenchTarget, options: BenchOptions, factory: MissionFactory, report: BenchReport, phase: Phase, ui: BenchUi): Promise<void> {
  const { redis, signal } = target;
  const dir = target.peerDir ?? DEFAULT_PEER_DIR;
  const prefix = peerPrefix(target.keyPrefix);
  if (options.missions > 0 || (options.rate > 0 && options.duration > 0)) {
    let peer: BullmqPeer | undefined;
    try {
      peer = await phase('bullmq peer start', () => BullmqPeer.start(redis, target.redisUrl, `${prefix}bullmq`, dir));
      const bullmq = peer;
      if (bullmq && options.missions > 0) {
        report.peers.bullmqThroughput = await phase('bullmq throughput', () =>
          bullmq.throughput(factory, options.missions, options.submitBatch, options.stallTimeoutS, ui, signal),
        );
      }
      if (bullmq && options.rate > 0 && options.duration > 0) {
        const rate = { rate: options.rate, duration: options.duration, stallTimeoutS: options.stallTimeoutS, timeoutS: options.phaseTimeoutS, signal };
        report.peers.bullmqLatency = await phase('bullmq latency', () => bullmq.latency(factory, rate, ui));
      }
      if (bullmq) report.peers.bullmqBytesPerMission = await phase('bullmq bytes', () => bullmq.bytesPerMission());
    } finally {
      await peer?.stop();
    }
  }
  if (report.http) {
    let bare: BareHttp | undefined;
    try {
      bare = await phase('bare http start', () => startBareHttp(target.redisUrl, `${prefix}http`, dir));
      const server = bare;
      if (server) {
        const httpLoad = { seconds: options.httpSeconds, connections: options.httpConnections, requests: options.httpRequests, signal };
        report.peers.bareHttp = await phase('bare http', () => measureHttp(server.baseUrl, 'peer', factory, httpLoad, ui));
      }
    } finally {
      await bare?.stop();
      await deleteKeysByPrefix(redis, prefix);
    }
  }
}

/** Verify and rebuild over the run's log, then over the synthetic log (with the raw-read peer over the same log). */
async function runReplay(target: BenchTarget, options: BenchOptions, report: BenchReport, phase: Phase, ui: BenchUi): Promise<void> {
  const { redis, signal } = target;
  const runKeys = new KeyLayout(target.keyPrefix);
  report.replayRun = await phase('replay (run log)', () => measureReplay(redis, runKeys, 'run log', ui, signal));
  let measured = runKeys;
  if (options.replayEvents > 0) {
    const synthetic = new KeyLayout(syntheticPrefix(target.keyPrefix));
    try {
      report.syntheticLog = await phase('synthetic log', async () => {
        const missions = Math.max(4, Math.round(options.replayEvents / 8));
        const writeStarted = Date.now();
        const events = await writeSyntheticLog(redis, synthetic, missions);
        return { missions, events, writeMs: Date.now() - writeStarted };
      });
      if (report.syntheticLog) {
        report.replaySynthetic = await phase('replay (synthetic)', () => measureReplay(redis, synthetic, 'synthetic', ui, signal));
        measured = synthetic;
      }
      if (!options.skipPeers) report.peers.rawRead = await phase('raw read', () => rawRead(redis, measured.partitions[0].log, signal));
    } finally {
      // Hundreds of MB on a shared server: gone as soon as it has been measured.
      await deleteKeysByPrefix(redis, synthetic.prefix).catch(() => undefined);
    }
  } else if (!options.skipPeers) report.peers.rawRead = await phase('raw read', () => rawRead(redis, runKeys.partitions[0].log, signal));
}

/** The synthetic replay log lives under the run's prefix (so cleanup takes it) but apart from the system's keys. */
export function syntheticPrefix(keyPrefix: string): string {
  return `${keyPrefix}synthetic:`;
}

/** The peers' keys: BullMQ's (its `prefix` option) and the bare-HTTP stream. */
export function peerPrefix(keyPrefix: string): string {
  return `${keyPrefix}peer:`;
}

/** The guest-data phase's keys (its subjects' data keys), deleted when it ends. */
export function guestDataPrefix(keyPrefix: string): string {
  return `${keyPrefix}guest-cost:`;
}

function memoryOf(pids: Partial<Record<ServiceName, number>>, field: 'peakMb' | 'currentMb'): Partial<Record<ServiceName, number>> {
  const out: Partial<Record<ServiceName, number>> = {};
  for (const service of SERVICE_NAMES) {
    const pid = pids[service];
    const memory = pid === undefined ? null : processMemory(pid);
    if (memory) out[service] = memory[field];
  }
  return out;
}

function addNotes(report: BenchReport): void {
  const { notes, latency, machine } = report;
  notes.push('Event timestamps (`at`) have millisecond resolution: latencies are whole ms, each ±1 ms.');
  notes.push("Redis CPU per mission is the Redis server's CPU over the phase ÷ its missions: anything else using that server meanwhile counts too.");
  if (report.throughput?.deadLettered)
    notes.push(`${report.throughput.deadLettered} throughput mission(s) were dead-lettered; missions/s counts only those that succeeded.`);
  if (latency && latency.achievedRate < latency.offeredRate * 0.95)
    notes.push(`The latency phase offered only ${latency.achievedRate.toFixed(0)}/s of the ${latency.offeredRate}/s asked.`);
  if (latency && latency.missionsPerSecond < latency.offeredRate * 0.95) {
    notes.push(
      `The latency phase's missions finished at ${latency.missionsPerSecond.toFixed(0)}/s, below the ${latency.offeredRate}/s offered: its latencies are mostly waiting in a backlog.`,
    );
  }
  for (const [label, http] of [
    ['HTTP', report.http],
    ['bare HTTP peer', report.peers.bareHttp],
  ] as const) {
    if (http && http.non2xx + http.errors > 0) notes.push(`${label}: ${http.non2xx} non-2xx (${JSON.stringify(http.statusCodes)}), ${http.errors} error(s).`);
  }
  if (machine.loadStart[0] > 0.5)
    notes.push(
      `Load average ${machine.loadStart[0].toFixed(1)} at the start: other work shared the ${machine.cpus} CPUs, so every figure, the peers' too, is lower than on an idle machine.`,
    );
  if (report.mode === 'one-process') notes.push('The services ran in one process: every rss_mb figure is the peak RSS of that one process.');
  if (report.guestDataSwitch === 'off')
    notes.push('Guest data off: the services resolved no data subject, so nothing was sealed; guest_data_cpu_ms_per_mission is what sealing would have cost.');
  for (const replay of [report.replayRun, report.replaySynthetic])
    if (replay && !replay.verifyOk) notes.push(`verifyLog reported ${replay.findings} finding(s); first: ${replay.firstFinding}`);
}

/**
 * The JSON line (all null for a run that measured nothing). The replay figures are those of the
 * synthetic log when there is one (large, the same every run), else those of the run's own log.
 */
export function summarize(report: BenchReport | undefined): BenchSummary {
  const replay = report?.replaySynthetic ?? report?.replayRun;
  const peers = report?.peers;
  const bullmq = {
    missions_per_s: finiteOrNull(peers?.bullmqThroughput?.missionsPerSecond),
    p99_ms: finiteOrNull(peers?.bullmqLatency?.latency.p99),
    redis_bytes_per_mission: finiteOrNull(peers?.bullmqBytesPerMission),
    redis_cpu_ms_per_mission: finiteOrNull(peers?.bullmqThroughput?.redisCpuMsPerMission, 3),
  };
  const summary: BenchSummary = {
    mode: report?.mode ?? 'split',
    guest_data: report?.guestDataSwitch ?? 'on',
    missions_per_s: finiteOrNull(report?.throughput?.missionsPerSecond),
    latency_ms: {
      p50: finiteOrNull(report?.latency?.createdToPassed.p50),
      p95: finiteOrNull(report?.latency?.createdToPassed.p95),
      p99: finiteOrNull(report?.latency?.createdToPassed.p99),
    },
    http_creates_per_s: finiteOrNull(report?.http?.createsPerSecond),
    http_p99_ms: finiteOrNull(report?.http?.p99Ms),
    rebuild_events_per_s: finiteOrNull(replay?.rebuildEventsPerSecond),
    verify_events_per_s: finiteOrNull(replay?.verifyEventsPerSecond),
    redis_bytes_per_mission: finiteOrNull(report?.footprint?.bytesPerMission),
    redis_cpu_ms_per_mission: finiteOrNull(report?.redisCpuMsPerMission, 3),
    services_cpu_ms_per_mission: finiteOrNull(report?.servicesCpuMsPerMission?.total, 3),
    guest_data_cpu_ms_per_mission: finiteOrNull(report?.guestData?.msPerMission.total, 3),
    rss_mb: Object.fromEntries(SERVICE_NAMES.map((service) => [service, finiteOrNull(report?.rss?.peakMb[service], 1)])) as Record<ServiceName, Figure>,
    peers: {
      bullmq,
      bare_http: { creates_per_s: finiteOrNull(peers?.bareHttp?.createsPerSecond), p99_ms: finiteOrNull(peers?.bareHttp?.p99Ms) },
      raw_read: { events_per_s: finiteOrNull(peers?.rawRead?.eventsPerSecond) },
    },
    ratios: { missions_per_s_vs_bullmq: null, p99_vs_bullmq: null, http_vs_bare: null, rebuild_vs_raw_read: null },
  };
  summary.ratios = {
    missions_per_s_vs_bullmq: ratioOf(summary.missions_per_s, bullmq.missions_per_s),
    // Like with like: both from the submitter's clock (the system's created → passed leaves out the intake stream).
    p99_vs_bullmq: ratioOf(finiteOrNull(report?.latency?.submitToPassed.p99), bullmq.p99_ms),
    http_vs_bare: ratioOf(summary.http_creates_per_s, summary.peers.bare_http.creates_per_s),
    rebuild_vs_raw_read: ratioOf(summary.rebuild_events_per_s, summary.peers.raw_read.events_per_s),
  };
  return summary;
}

async function machineInfo(redis: Redis): Promise<BenchReport['machine']> {
  const version = /redis_version:(\S+)/.exec(await redis.info('server').catch(() => ''))?.[1] ?? 'unknown';
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model?.trim() ?? 'unknown', node: process.version, redis: version, loadStart: loadavg() };
}
