import type Redis from 'ioredis';
import type { KeyLayout } from '@app/event-store';
import { MissionClient } from '@app/mission-client';
import { MissionFactory } from './missions';
import { Distribution, distribution, maxOf, minOf, sleep, throwIfAborted } from './stats';
import type { Bar, BenchUi } from './ui';

/** The status counters the append script keeps in step with every transition: one HMGET, however many missions. */
export async function finishedTotal(redis: Redis, keys: KeyLayout): Promise<{ total: number; deadLettered: number }> {
  const counts = (await redis.hmget(keys.partitions[0].statusCounts, 'succeeded', 'dead_lettered', 'cancelled')).map(Number);
  return { total: counts[0] + counts[1] + counts[2], deadLettered: counts[1] };
}

export interface WaitOptions {
  stallTimeoutS: number;
  timeoutS: number;
  signal?: AbortSignal;
}

/**
 * Polls the status counters every 200 ms until `target()` missions (over all phases) are finished;
 * fails when none finishes for `stallTimeoutS` (a stuck pipeline) or after `timeoutS`.
 */
export async function waitForFinished(
  redis: Redis,
  keys: KeyLayout,
  target: () => Promise<number>,
  baseline: number,
  bar: Bar,
  options: WaitOptions,
): Promise<void> {
  const started = Date.now();
  let [last, progressAt] = [-1, started];
  for (;;) {
    const goal = await target();
    const { total, deadLettered } = await finishedTotal(redis, keys);
    const done = total - baseline;
    bar.setTotal(goal - baseline);
    bar.update(
      done,
      `${Math.round(done / Math.max(0.001, (Date.now() - started) / 1000))}/s${deadLettered > 0 ? ` | ${deadLettered} dead-lettered in all` : ''}`,
    );
    if (total >= goal) return;
    if (total !== last) [last, progressAt] = [total, Date.now()];
    const stalled = Date.now() - progressAt > options.stallTimeoutS * 1000;
    if (stalled || Date.now() - started > options.timeoutS * 1000) {
      throw new Error(
        `${stalled ? `no mission finished for ${options.stallTimeoutS} s` : `not finished after ${options.timeoutS} s`} (${done} of ${goal - baseline})`,
      );
    }
    await sleep(200, options.signal);
  }
}

export interface PhaseResult {
  missions: number;
  succeeded: number;
  deadLettered: number;
  /** succeeded / (last passing MissionEvaluated.at − first MissionCreated.at). */
  missionsPerSecond: number;
  windowMs: number;
  /** MissionCreated.at → the passing MissionEvaluated.at, ms. */
  createdToPassed: Distribution;
  /** The bench's clock before createMany → the passing MissionEvaluated.at, ms (adds the wait in the intake stream). */
  submitToPassed: Distribution;
  /** Events of the phase's missions. */
  events: number;
  /** Handing the missions over took this long, ms. */
  submitMs: number;
  /** From the first submission until the counters showed all finished, ms. */
  wallMs: number;
  missionIds: string[];
}

/**
 * One phase of the system: `submit` hands `missions` missions over (recording when each was
 * submitted), the status counters say when they are all finished, and their times come from the
 * log afterwards (one XRANGE walk from the log's tail before the phase, not polling per mission).
 */
async function runPhase(
  redis: Redis,
  keys: KeyLayout,
  missions: number,
  submit: (client: MissionClient, submitted: Map<string, number>) => Promise<void>,
  options: WaitOptions,
  ui: BenchUi,
): Promise<PhaseResult> {
  const log = keys.partitions[0].log;
  const last = (await redis.xrevrange(log, '+', '-', 'COUNT', 1)) as [string, string[]][];
  const baseline = await finishedTotal(redis, keys);
  const submitted = new Map<string, number>();
  // Ends the wait with the phase: a failed submission must not leave it polling.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const bar = ui.bar('finished', missions);
  const waiting = waitForFinished(redis, keys, async () => baseline.total + missions, baseline.total, bar, { ...options, signal });
  waiting.catch(() => undefined);
  const started = Date.now();
  try {
    await submit(new MissionClient(redis, keys.prefix), submitted);
    const submitMs = Date.now() - started;
    await waiting;
    const wallMs = Date.now() - started;
    const times = await missionTimes(redis, log, last[0]?.[0], submitted);
    const createdToPassed: number[] = [];
    const submitToPassed: number[] = [];
    for (const [id, passedAt] of times.passed) {
      const createdAt = times.created.get(id);
      if (createdAt !== undefined) createdToPassed.push(passedAt - createdAt);
      submitToPassed.push(passedAt - (submitted.get(id) ?? passedAt));
    }
    const windowMs = maxOf(times.passed.values()) - minOf(times.created.values());
    return {
      missions,
      succeeded: times.passed.size,
      deadLettered: (await finishedTotal(redis, keys)).deadLettered - baseline.deadLettered,
      // A window of 0 ms (a handful of missions inside one ms) has no meaningful rate.
      missionsPerSecond: windowMs > 0 ? (times.passed.size / windowMs) * 1000 : NaN,
      windowMs,
      createdToPassed: distribution(createdToPassed),
      submitToPassed: distribution(submitToPassed),
      events: times.events,
      submitMs,
      wallMs,
      missionIds: [...times.passed.keys()],
    };
  } finally {
    stop.abort();
    bar.stop();
  }
}

/** Reads the log after `afterId` in batches; parses only the events that bound a mission's way through: created, and evaluated as passed. */
async function missionTimes(redis: Redis, log: string, afterId: string | undefined, ids: ReadonlyMap<string, number>) {
  const times = { created: new Map<string, number>(), passed: new Map<string, number>(), events: 0 };
  for (let start = afterId ? `(${afterId}` : '-'; ;) {
    const entries = (await redis.xrange(log, start, '+', 'COUNT', 10_000)) as [string, string[]][];
    for (const [, fields] of entries) {
      const missionId = fields[fields.indexOf('m') + 1];
      if (!ids.has(missionId)) continue;
      times.events += 1;
      const json = fields[fields.indexOf('e') + 1];
      if (!json.includes('"type":"MissionCreated"') && !json.includes('"type":"MissionEvaluated"')) continue;
      const event = JSON.parse(json) as { type: string; at: string; data?: { passed?: boolean } };
      if (event.type === 'MissionCreated') times.created.set(missionId, Date.parse(event.at));
      else if (event.data?.passed === true) times.passed.set(missionId, Date.parse(event.at));
    }
    if (entries.length < 10_000) return times;
    start = `(${entries[entries.length - 1][0]}`;
  }
}

/** A flood: `missions` missions through MissionClient.createMany in batches, as fast as the bench can hand them over. */
export function measureThroughput(redis: Redis, keys: KeyLayout, factory: MissionFactory, missions: number, batch: number, options: WaitOptions, ui: BenchUi) {
  return runPhase(
    redis,
    keys,
    missions,
    async (client, submitted) => {
      const bar = ui.bar('submitted', missions);
      for (let offset = 0; offset < missions; offset += batch) {
        throwIfAborted(options.signal);
        const at = Date.now();
        for (const id of await client.createMany(factory.missions(Math.min(batch, missions - offset)))) submitted.set(id, at);
        bar.update(submitted.size);
      }
      bar.stop();
    },
    options,
    ui,
  );
}

export interface RateOptions extends WaitOptions {
  rate: number;
  duration: number;
}

export type LatencyResult = PhaseResult & { offeredRate: number; achievedRate: number; maxScheduleLagMs: number };

/** The system at a fixed offered rate (see offerAtRate). */
export async function measureLatency(redis: Redis, keys: KeyLayout, factory: MissionFactory, options: RateOptions, ui: BenchUi): Promise<LatencyResult> {
  const total = Math.max(1, Math.round(options.rate * options.duration));
  let offered = { achievedRate: NaN, maxScheduleLagMs: NaN };
  const result = await runPhase(
    redis,
    keys,
    total,
    async (client, submitted) => {
      offered = await offerAtRate(
        options,
        async (count) => {
          const at = Date.now();
          for (const id of await client.createMany(factory.missions(count))) submitted.set(id, at);
        },
        ui.bar(`offer ${options.rate}/s`, total),
      );
    },
    { ...options, timeoutS: options.timeoutS + options.duration },
    ui,
  );
  return { ...result, offeredRate: options.rate, ...offered };
}

/** Timer granularity of the submitter: small batches, often enough that 500/s is 5 missions per tick. */
const TICK_MS = 10;

/**
 * Offers `rate` missions/s for `duration` s: every 10 ms it submits as many as the schedule
 * (anchored at the start, so a late tick catches up instead of drifting) says are due, without
 * waiting for earlier batches. Shared by the system and the BullMQ peer.
 */
export async function offerAtRate(
  options: RateOptions,
  submit: (count: number) => Promise<void>,
  bar: Bar,
): Promise<{ achievedRate: number; maxScheduleLagMs: number }> {
  const total = Math.max(1, Math.round(options.rate * options.duration));
  const pending: Promise<void>[] = [];
  let failure: unknown;
  let sent = 0;
  let maxLag = 0;
  const started = performance.now();
  for (let tick = 1; sent < total; tick++) {
    if (tick > 1) await sleep(Math.max(0, started + (tick - 1) * TICK_MS - performance.now()), options.signal);
    const elapsedMs = performance.now() - started;
    const due = Math.min(total, Math.floor((elapsedMs / 1000) * options.rate) + 1);
    if (due <= sent) continue;
    // The oldest mission of this batch was due at (sent / rate) s.
    maxLag = Math.max(maxLag, elapsedMs - (sent / options.rate) * 1000);
    pending.push(submit(due - sent).catch((error: unknown) => void (failure ??= error)));
    sent = due;
    bar.update(sent, `${Math.round(sent / Math.max(0.001, elapsedMs / 1000))}/s offered`);
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(pending);
  bar.stop();
  if (failure) throw failure;
  // The schedule puts the first mission at t = 0 and the last at (total − 1) / rate.
  return { achievedRate: total > 1 ? (total - 1) / Math.max(0.001, seconds) : total, maxScheduleLagMs: maxLag };
}
