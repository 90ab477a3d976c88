import type Redis from 'ioredis';
import type { KeyLayout } from '../../libs/event-store/src/key-layout';
import { MissionClient } from '../../libs/mission-client/src/mission-client';
import { finishedCounts, finishedTotal, waitForFinished } from './completion';
import { logTail, scanMissionTimes } from './log-scan';
import { MissionFactory } from './missions';
import { Distribution, distribution, maxOf, minOf, sleep, throwIfAborted } from './stats';
import type { Bar, BenchUi } from './ui';

export interface LatencyResult {
  offeredRate: number;
  /** Missions handed over / the time it took: how well the schedule was kept. */
  achievedRate: number;
  missions: number;
  succeeded: number;
  deadLettered: number;
  /** MissionCreated.at → the passing MissionEvaluated.at, ms. The headline figure. */
  createdToPassed: Distribution;
  /** The bench's clock before createMany → the passing MissionEvaluated.at, ms (adds the wait in the intake stream); what the BullMQ peer's latency is compared with. */
  submitToPassed: Distribution;
  /** Missions that succeeded / (last passing MissionEvaluated.at − first MissionCreated.at): did the system keep up? */
  completedRate: number;
  /** Worst delay of a batch behind its schedule, ms. */
  maxScheduleLagMs: number;
  missionIds: string[];
}

export interface RateOptions {
  rate: number;
  duration: number;
  stallTimeoutS: number;
  timeoutS: number;
  signal?: AbortSignal;
}

/** Timer granularity of the submitter: small batches, often enough that 500/s is 5 missions per tick. */
const TICK_MS = 10;

export interface Offered {
  sent: number;
  achievedRate: number;
  maxScheduleLagMs: number;
}

/**
 * Offers `rate` missions/s for `duration` s: every 10 ms it submits as many as the schedule
 * (anchored at the start, so a late tick catches up instead of drifting) says are due, without
 * waiting for earlier batches. Shared by the system and the BullMQ peer.
 */
export async function offerAtRate(options: RateOptions, submit: (count: number) => Promise<void>, bar: Bar): Promise<Offered> {
  const total = Math.max(1, Math.round(options.rate * options.duration));
  const pending: Promise<void>[] = [];
  let failure: unknown;
  let sent = 0;
  let maxLag = 0;
  const started = performance.now();
  for (let tick = 1; ; tick++) {
    throwIfAborted(options.signal);
    const elapsedMs = performance.now() - started;
    const due = Math.min(total, Math.floor((elapsedMs / 1000) * options.rate) + 1);
    if (due > sent) {
      // The oldest mission of this batch was due at (sent / rate) s.
      maxLag = Math.max(maxLag, elapsedMs - (sent / options.rate) * 1000);
      pending.push(submit(due - sent).catch((error: unknown) => void (failure ??= error)));
      sent = due;
      bar.update(sent, `${Math.round(sent / Math.max(0.001, elapsedMs / 1000))}/s offered`);
    }
    if (sent >= total) break;
    await sleep(Math.max(0, started + tick * TICK_MS - performance.now()), options.signal);
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(pending);
  bar.stop();
  if (failure) throw failure;
  // The schedule puts the first mission at t = 0 and the last at (total − 1) / rate.
  return { sent, achievedRate: total > 1 ? (total - 1) / Math.max(0.001, seconds) : total, maxScheduleLagMs: maxLag };
}

/** The system at a fixed offered rate; latencies from the log's event timestamps at the end. */
export async function measureLatency(redis: Redis, keys: KeyLayout, factory: MissionFactory, options: RateOptions, ui: BenchUi): Promise<LatencyResult> {
  const client = new MissionClient(redis, keys.prefix);
  const tail = await logTail(redis, keys.partitions[0].log);
  const baseline = await finishedCounts(redis, keys);
  const total = Math.max(1, Math.round(options.rate * options.duration));
  const submitAt = new Map<string, number>();
  const finished = ui.bar('finished', total);
  // Ends the wait with the phase (an error in submission must not leave it polling).
  const stopWaiting = new AbortController();
  const waiting = waitForFinished(redis, keys, {
    target: finishedTotal(baseline) + total,
    baseline,
    bar: finished,
    stallTimeoutS: options.stallTimeoutS,
    timeoutS: options.timeoutS + options.duration,
    signal: options.signal ? AbortSignal.any([options.signal, stopWaiting.signal]) : stopWaiting.signal,
  });
  waiting.catch(() => undefined);
  try {
    const offered = await offerAtRate(
      options,
      async (count) => {
        const at = Date.now();
        for (const id of await client.createMany(factory.missions(count))) submitAt.set(id, at);
      },
      ui.bar(`offer ${options.rate}/s`, total),
    );
    const counts = await waiting;
    const times = await scanMissionTimes(redis, keys.partitions[0].log, tail, new Set(submitAt.keys()));
    const createdToPassed: number[] = [];
    const submitToPassed: number[] = [];
    for (const [id, passedAt] of times.passed) {
      const createdAt = times.created.get(id);
      if (createdAt !== undefined) createdToPassed.push(passedAt - createdAt);
      submitToPassed.push(passedAt - (submitAt.get(id) ?? passedAt));
    }
    const windowMs = maxOf(times.passed.values()) - minOf(times.created.values());
    return {
      offeredRate: options.rate,
      achievedRate: offered.achievedRate,
      completedRate: windowMs > 0 ? (times.passed.size / windowMs) * 1000 : NaN,
      missions: total,
      succeeded: times.passed.size,
      deadLettered: counts.deadLettered - baseline.deadLettered,
      createdToPassed: distribution(createdToPassed),
      submitToPassed: distribution(submitToPassed),
      maxScheduleLagMs: offered.maxScheduleLagMs,
      missionIds: [...times.passed.keys()],
    };
  } finally {
    stopWaiting.abort();
    finished.stop();
  }
}
