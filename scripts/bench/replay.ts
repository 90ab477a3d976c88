import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type Redis from 'ioredis';
import { KeyLayout } from '../../libs/event-store/src/key-layout';
import { MissionStore } from '../../libs/event-store/src/mission-store';
import { RuleBasedJudge } from '../../libs/evaluation/src/rule-based-judge';
import { buildLlmRequest } from '../../libs/llm/src/prompt-builder';
import { MockLlmClient } from '../../libs/llm/src/mock-llm-client';
import { decideAssign, decideComplete, decideCreate, decideEvaluate, decideStart, Decision } from '../../libs/mission/src/decide';
import type { Evaluation, MissionResult, NewMissionEvent } from '../../libs/mission/src/mission-events';
import type { MissionCreateDto } from '../../libs/mission/src/mission-create.dto';
import type { Mission } from '../../libs/mission/src/mission-state';
import { BenchAborted, throwIfAborted } from './stats';
import type { Bar, BenchUi } from './ui';

/**
 * The two functions of libs/audit the bench times. Declared here rather than imported, so the
 * bench builds and runs (with the replay figures left null and the reason printed) while that
 * library is absent or cannot load.
 */
interface Progress {
  phase: string;
  done: number;
  total?: number;
}
interface AuditApi {
  rebuildReadModels(
    redis: Redis,
    keys: KeyLayout,
    options?: { onProgress?: (progress: Progress) => void },
  ): Promise<{ events: number; missions: number; switched: number; unreplayable: string[]; eventsPerSecond: number; ms: number; timings?: Record<string, number> }>;
  verifyLog(
    redis: Redis,
    keys: KeyLayout,
    onProgress?: (progress: Progress) => void,
  ): Promise<{ ok: boolean; findings: { kind: string; detail: string }[]; events: number; missions: number; eventsPerSecond: number; ms: number }>;
}

export type AuditLoad = { ok: true; audit: AuditApi } | { ok: false; reason: string };

/** Where libs/audit's index is, beside this file's tree (scripts/bench → ../../libs/audit/src). */
export function auditIndexPath(): string {
  return join(__dirname, '..', '..', 'libs', 'audit', 'src');
}

export function loadAudit(): AuditLoad {
  const dir = auditIndexPath();
  if (!existsSync(join(dir, 'index.ts')) && !existsSync(join(dir, 'index.js'))) {
    return { ok: false, reason: `libs/audit is not there (no ${join(dir, 'index')}.{ts,js}); build after it lands` };
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const audit = require(dir) as Partial<AuditApi>;
    if (typeof audit.rebuildReadModels !== 'function' || typeof audit.verifyLog !== 'function') {
      return { ok: false, reason: 'libs/audit does not export rebuildReadModels and verifyLog' };
    }
    return { ok: true, audit: audit as AuditApi };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = /ENOENT.*\.lua|Lua include/.test(message)
      ? ' — a Lua file is missing beside the compiled code: `npm run build` copies them (scripts/copy-assets.js)'
      : '';
    return { ok: false, reason: `libs/audit failed to load: ${message}${hint}` };
  }
}

export interface ReplayFigures {
  events: number;
  missions: number;
  rebuildMs: number;
  /** events / wall time of rebuildReadModels, measured here. */
  rebuildEventsPerSecond: number;
  /** What rebuildReadModels itself reports (its own clock). */
  rebuildReported: number;
  rebuildTimings?: Record<string, number>;
  verifyMs: number;
  verifyEventsPerSecond: number;
  verifyReported: number;
  verifyOk: boolean;
  findings: number;
  findingKinds: Record<string, number>;
  firstFinding?: string;
}

/** Verify (the live read model against the log), then rebuild; both timed by wall clock. */
export async function measureReplay(audit: AuditApi, redis: Redis, keys: KeyLayout, label: string, ui: BenchUi, signal?: AbortSignal): Promise<ReplayFigures> {
  throwIfAborted(signal);
  const verifyBar = ui.bar(`verify ${label}`, 1, '');
  const verifyStarted = performance.now();
  let verify;
  try {
    verify = await audit.verifyLog(redis, keys, progressTo(verifyBar));
  } finally {
    verifyBar.stop();
  }
  const verifyMs = performance.now() - verifyStarted;
  throwIfAborted(signal);

  const rebuildBar = ui.bar(`rebuild ${label}`, 1, '');
  const rebuildStarted = performance.now();
  let rebuild;
  try {
    rebuild = await audit.rebuildReadModels(redis, keys, { onProgress: progressTo(rebuildBar) });
  } finally {
    rebuildBar.stop();
  }
  const rebuildMs = performance.now() - rebuildStarted;

  const findingKinds: Record<string, number> = {};
  for (const finding of verify.findings) findingKinds[finding.kind] = (findingKinds[finding.kind] ?? 0) + 1;
  return {
    events: rebuild.events,
    missions: rebuild.missions,
    rebuildMs,
    rebuildEventsPerSecond: rebuildMs > 0 ? (rebuild.events / rebuildMs) * 1000 : NaN,
    rebuildReported: rebuild.eventsPerSecond,
    rebuildTimings: rebuild.timings,
    verifyMs,
    verifyEventsPerSecond: verifyMs > 0 ? (verify.events / verifyMs) * 1000 : NaN,
    verifyReported: verify.eventsPerSecond,
    verifyOk: verify.ok,
    findings: verify.findings.length,
    findingKinds,
    ...(verify.findings[0] ? { firstFinding: `${verify.findings[0].kind}: ${verify.findings[0].detail}` } : {}),
  };
}

function progressTo(bar: Bar): (progress: Progress) => void {
  let phase = '';
  return (progress) => {
    if (progress.total !== undefined) bar.setTotal(progress.total);
    if (progress.phase !== phase) phase = progress.phase;
    bar.update(progress.done, phase);
  };
}

export interface SyntheticLog {
  /** 'make-audit-log' (scripts/make-audit-log.ts, the audit engineer's generator) or 'append' (MissionStore.append here). */
  writer: 'make-audit-log' | 'append';
  /** Where the log is; its keys are deleted when the replay figures are taken. */
  keyPrefix: string;
  events: number;
  missions: number;
  writeMs: number;
  eventsPerSecond: number;
  /** make-audit-log's own report lines (its write, verify and rebuild rates), as a cross-check. */
  toolReport?: string[];
}

/** The compiled generator of the audit library's author, if it was built. */
export function makeAuditLogScript(): string | undefined {
  const file = join(__dirname, '..', 'make-audit-log.js');
  return existsSync(file) ? file : undefined;
}

/**
 * Has scripts/make-audit-log.ts write a log of about `events` events (8 per mission on average:
 * successes, retries, dead-letter + requeue, cancellations; hash chains computed in JS, XADD
 * pipelines) and keep it (`--keep`). It times verify and rebuild itself; those lines are kept as a
 * cross-check, and the bench then times its own verify and rebuild over the kept log.
 *
 * Runs in its own process group, so a Ctrl-C in the terminal reaches only the bench, which lets it
 * finish (it prints its prefix only at the end) so that the keys can be deleted.
 */
export async function runMakeAuditLog(script: string, redisUrl: string, events: number, ui: BenchUi, signal?: AbortSignal): Promise<SyntheticLog> {
  const missions = Math.max(4, Math.round(events / 8));
  const started = performance.now();
  const bar = ui.bar('make-audit-log', 1, 'runs');
  const child = spawn(process.execPath, [script, '--missions', String(missions), '--keep'], {
    env: { ...process.env, REDIS_URL: redisUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const onAbort = () => ui.log('waiting for make-audit-log to finish, so that its keys can be deleted');
  signal?.addEventListener('abort', onAbort, { once: true });
  const code = await new Promise<number>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (exitCode) => resolve(exitCode ?? -1));
  });
  signal?.removeEventListener('abort', onAbort);
  bar.update(1, `exit ${code}`);
  bar.stop();
  const writeMs = performance.now() - started;
  const kept = /Keys kept under (\S+)/.exec(stdout)?.[1];
  if (code !== 0 || !kept) {
    const detail = `${stderr.trim()} ${stdout.trim()}`.trim().slice(-500);
    throw new MakeAuditLogError(`make-audit-log exited ${code}${kept ? '' : ' without keeping a log'}: ${detail}`, kept);
  }
  const lines = stdout.split('\n').filter((line) => line.trim() && !line.startsWith('Keys kept'));
  const writeLine = lines.find((line) => line.startsWith('write'));
  const toolWriteRate = Number(/([\d,]+) events\/s/.exec(writeLine ?? '')?.[1]?.replace(/,/g, ''));
  return {
    writer: 'make-audit-log',
    keyPrefix: kept,
    events: 0, // filled in by the caller from XLEN
    missions,
    writeMs,
    eventsPerSecond: toolWriteRate,
    toolReport: lines,
  };
}

export class MakeAuditLogError extends Error {
  constructor(
    message: string,
    /** Its prefix, when it got far enough to print one: the keys to delete. */
    readonly keyPrefix?: string,
  ) {
    super(message);
  }
}

/** Missions whose five appends run side by side; each step waits for the one before (versions are per mission). */
const WRITE_WINDOW = 1_000;

/**
 * A log of about `events` events (whole mission lifecycles of 6 events; the last one cut short)
 * written through MissionStore.append exactly as the services write — one append script per
 * transition, with the hash chains — `WRITE_WINDOW` missions at a time over one auto-pipelined
 * connection. Results and evaluations come from the mock LLM and the rule-based judge, one per
 * fixture, so events have the sizes of real ones.
 */
export async function writeSyntheticLog(
  redis: Redis,
  keys: KeyLayout,
  events: number,
  templates: readonly MissionCreateDto[],
  ui: BenchUi,
  signal?: AbortSignal,
): Promise<SyntheticLog> {
  const writer = redis.duplicate({ enableAutoPipelining: true });
  writer.on('error', () => undefined);
  const store = new MissionStore(writer, keys);
  const outcomes = new Map<number, { result: MissionResult; evaluation: Omit<Evaluation, 'attempt'> }>();
  const llm = new MockLlmClient({ latencyMs: 0, failureRate: 0, malformedRate: 0 });
  const judge = new RuleBasedJudge();
  const bar = ui.bar('synthetic log', events, 'events');
  const started = performance.now();
  let written = 0;
  let missions = 0;
  let serial = 0;
  try {
    while (written < events) {
      throwIfAborted(signal);
      const window: { id: string; template: number; budget: number; mission: Mission | null }[] = [];
      while (window.length < WRITE_WINDOW && written < events) {
        const budget = Math.min(6, events - written);
        const template = serial % templates.length;
        window.push({ id: syntheticId(keys.prefix, serial++), template, budget: Math.max(2, budget), mission: null });
        written += Math.max(2, budget);
      }
      missions += window.length;
      // Step 0 appends MissionCreated + MissionQueued; steps 1..4 one event each.
      for (let step = 0; step < 5; step++) {
        const live = window.filter((m) => m.budget >= step + 2);
        if (live.length === 0) break;
        await Promise.all(
          live.map(async (m) => {
            const now = new Date();
            let decided: NewMissionEvent[];
            if (step === 0) decided = decideCreate(templates[m.template], now);
            else decided = await nextEvents(step, m.mission as Mission, m.template, outcomes, llm, judge);
            const result = await store.append(m.id, m.mission, decided, { actor: actorOf(step), now });
            if (!('mission' in result)) throw new Error(`synthetic append ${m.id} step ${step} failed with code ${result.code}`);
            m.mission = result.mission;
          }),
        );
      }
      bar.update(Math.min(written, events), `${Math.round(written / ((performance.now() - started) / 1000))} events/s`);
    }
  } catch (error) {
    if (signal?.aborted) throw new BenchAborted();
    throw error;
  } finally {
    bar.stop();
    await writer.quit().catch(() => writer.disconnect());
  }
  const writeMs = performance.now() - started;
  const total = await redis.xlen(keys.partitions[0].log);
  return { writer: 'append', keyPrefix: keys.prefix, events: total, missions, writeMs, eventsPerSecond: (total / writeMs) * 1000 };
}

function syntheticId(prefix: string, serial: number): string {
  // A UUID-shaped id (36 characters, as the services' v7 ids), unique per run.
  const hex = serial.toString(16).padStart(12, '0');
  const run = Buffer.from(prefix).toString('hex').padEnd(20, '0').slice(-20);
  return `${run.slice(0, 8)}-${run.slice(8, 12)}-7${run.slice(12, 15)}-8${run.slice(15, 18)}-${run.slice(18, 20)}${hex.slice(-10)}`;
}

function actorOf(step: number): string {
  return ['intake', 'orchestrator', 'executor', 'executor', 'evaluator'][step];
}

async function nextEvents(
  step: number,
  mission: Mission,
  template: number,
  outcomes: Map<number, { result: MissionResult; evaluation: Omit<Evaluation, 'attempt'> }>,
  llm: MockLlmClient,
  judge: RuleBasedJudge,
): Promise<NewMissionEvent[]> {
  let decision: Decision;
  if (step === 1) decision = decideAssign(mission, 'agent-synthetic');
  else if (step === 2) decision = decideStart(mission, mission.attempts);
  else {
    let outcome = outcomes.get(template);
    if (!outcome) {
      const response = await llm.complete(buildLlmRequest(mission, { systemPrompt: 'You are an AI agent of a hotel.', timeoutMs: 10_000 }));
      const result: MissionResult = { output: response.output, model: response.model, latencyMs: response.latencyMs, usage: response.usage };
      const verdict = judge.judge({ ...mission, result }, response.output);
      outcome = { result, evaluation: verdict };
      outcomes.set(template, outcome);
    }
    decision =
      step === 3
        ? decideComplete(mission, mission.attempts, outcome.result)
        : decideEvaluate(mission, { attempt: mission.attempts, ...outcome.evaluation });
  }
  if (decision.kind !== 'append') throw new Error(`synthetic mission ${mission.id}: step ${step} skipped (${decision.reason})`);
  return decision.events;
}
