import { performance } from 'node:perf_hooks';
import type Redis from 'ioredis';
import type { Progress } from '@app/audit';
import { rebuildReadModels, verifyLog } from '@app/audit';
import type { KeyLayout } from '@app/event-store';
import { throwIfAborted } from './stats';
import type { Bar, BenchUi } from './ui';

export interface ReplayFigures {
  events: number;
  missions: number;
  rebuildMs: number;
  /** events / wall time of rebuildReadModels, measured here. */
  rebuildEventsPerSecond: number;
  rebuildTimings?: Record<string, number>;
  verifyMs: number;
  verifyEventsPerSecond: number;
  verifyOk: boolean;
  findings: number;
  firstFinding?: string;
}

/** Verify (the live read model against the log), then rebuild; both timed by wall clock, in this process. */
export async function measureReplay(redis: Redis, keys: KeyLayout, label: string, ui: BenchUi, signal?: AbortSignal): Promise<ReplayFigures> {
  throwIfAborted(signal);
  const verifyBar = ui.bar(`verify ${label}`, 1, 'events');
  const verifyStarted = performance.now();
  const verify = await verifyLog(redis, keys, progressTo(verifyBar)).finally(() => verifyBar.stop());
  const verifyMs = performance.now() - verifyStarted;
  throwIfAborted(signal);
  const rebuildBar = ui.bar(`rebuild ${label}`, 1, 'events');
  const rebuildStarted = performance.now();
  const rebuild = await rebuildReadModels(redis, keys, { onProgress: progressTo(rebuildBar) }).finally(() => rebuildBar.stop());
  const rebuildMs = performance.now() - rebuildStarted;
  const first = verify.findings[0];
  return {
    events: rebuild.events,
    missions: rebuild.missions,
    rebuildMs,
    rebuildEventsPerSecond: rebuildMs > 0 ? (rebuild.events / rebuildMs) * 1000 : NaN,
    rebuildTimings: rebuild.timings,
    verifyMs,
    verifyEventsPerSecond: verifyMs > 0 ? (verify.events / verifyMs) * 1000 : NaN,
    verifyOk: verify.ok,
    findings: verify.findings.length,
    ...(first ? { firstFinding: `${first.kind}: ${first.detail}` } : {}),
  };
}

function progressTo(bar: Bar): (progress: Progress) => void {
  return (progress) => {
    if (progress.total !== undefined) bar.setTotal(progress.total);
    bar.update(progress.done, progress.phase);
  };
}

/** Entries per XRANGE of the raw-read peer. */
const RAW_BATCH = 2_000;

/**
 * The rebuild's peer: `XRANGE` of `log` in batches of 2,000 and `JSON.parse` of every event, in
 * this process, nothing else — the upper limit of reading and parsing that log.
 */
export async function rawRead(redis: Redis, log: string, signal?: AbortSignal): Promise<{ events: number; ms: number; eventsPerSecond: number }> {
  const started = performance.now();
  let events = 0;
  let start = '-';
  for (;;) {
    throwIfAborted(signal);
    const entries = (await redis.xrange(log, start, '+', 'COUNT', RAW_BATCH)) as [string, string[]][];
    for (const [, fields] of entries) {
      for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'e') JSON.parse(fields[i + 1]);
      events += 1;
    }
    if (entries.length < RAW_BATCH) break;
    start = `(${entries[entries.length - 1][0]}`;
  }
  const ms = performance.now() - started;
  return { events, ms, eventsPerSecond: (events / ms) * 1000 };
}
