import type Redis from 'ioredis';
import type { KeyLayout } from '../../libs/event-store/src/key-layout';
import { MissionClient } from '../../libs/mission-client/src/mission-client';
import { finishedCounts, finishedTotal, waitForFinished } from './completion';
import { logTail, scanMissionTimes } from './log-scan';
import { MissionFactory } from './missions';
import { BenchAborted, Distribution, distribution, maxOf, minOf } from './stats';
import type { BenchUi } from './ui';

export interface LatencyResult {
  offeredRate: number;
  /** Missions handed to the intake stream / the time it took: how well the schedule was kept. */
  achievedRate: number;
  missions: number;
  succeeded: number;
  deadLettered: number;
  /** MissionCreated.at → the passing MissionEvaluated.at, ms. The headline figure. */
  createdToPassed: Distribution;
  /**
   * The bench's clock before createMany → the passing MissionEvaluated.at, ms: adds the time the
   * command waits in the intake stream. Same machine, same clock.
   */
  submitToPassed: Distribution;
  /** Missions that succeeded / (last passing MissionEvaluated.at − first MissionCreated.at): did the system keep up? */
  completedRate: number;
  /** Worst delay of a batch behind its schedule, ms. */
  maxScheduleLagMs: number;
  tickMs: number;
  /** Missions of the phase that succeeded (for the footprint sample). */
  missionIds: string[];
}

export interface LatencyOptions {
  rate: number;
  duration: number;
  stallTimeoutS: number;
  timeoutS: number;
  signal?: AbortSignal;
}

/** Timer granularity of the submitter: small batches, often enough that 500/s is 5 missions per tick. */
const TICK_MS = 10;

/**
 * Offers missions at a fixed rate for `duration` s: every 10 ms it submits as many missions as the
 * schedule (anchored at the start, so a late tick catches up instead of drifting) says are due,
 * without waiting for earlier batches. Latency comes from the log's event timestamps at the end.
 */
export async function measureLatency(
  redis: Redis,
  keys: KeyLayout,
  factory: MissionFactory,
  options: LatencyOptions,
  ui: BenchUi,
): Promise<LatencyResult> {
  const client = new MissionClient(redis, keys.prefix);
  const tail = await logTail(redis, keys.partitions[0].log);
  const baseline = await finishedCounts(redis, keys);
  const total = Math.max(1, Math.round(options.rate * options.duration));
  const submitAt = new Map<string, number>();
  const offered = ui.bar(`offer ${options.rate}/s`, total);
  const finished = ui.bar('finished', total);

  // Ends the wait with the phase (an error in submission must not leave it polling).
  const stopWaiting = new AbortController();
  const waitSignal = options.signal ? AbortSignal.any([options.signal, stopWaiting.signal]) : stopWaiting.signal;
  const waiting = waitForFinished(redis, keys, {
    target: finishedTotal(baseline) + total,
    baseline,
    bar: finished,
    stallTimeoutS: options.stallTimeoutS,
    timeoutS: options.timeoutS + options.duration,
    signal: waitSignal,
  });
  waiting.catch(() => undefined);

  let sent = 0;
  let maxLag = 0;
  const batches: Promise<void>[] = [];
  const started = performance.now();
  const startedWall = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      let tick = 0;
      const onAbort = () => reject(new BenchAborted());
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const step = () => {
        if (options.signal?.aborted) return;
        const now = performance.now();
        const elapsedMs = now - started;
        const due = Math.min(total, Math.floor((elapsedMs / 1000) * options.rate) + 1);
        if (due > sent) {
          // The oldest mission of this batch was due at (sent / rate) s.
          maxLag = Math.max(maxLag, elapsedMs - (sent / options.rate) * 1000);
          const bodies = factory.missions(due - sent);
          sent = due;
          const at = Date.now();
          batches.push(
            client.createMany(bodies).then((ids) => {
              for (const id of ids) submitAt.set(id, at);
            }),
          );
          offered.update(sent, `${Math.round(sent / Math.max(0.001, elapsedMs / 1000))}/s offered`);
        }
        if (sent >= total) {
          options.signal?.removeEventListener('abort', onAbort);
          resolve();
          return;
        }
        tick += 1;
        setTimeout(step, Math.max(0, started + tick * TICK_MS - performance.now()));
      };
      step();
    });
    const submitSeconds = (Date.now() - startedWall) / 1000;
    await Promise.all(batches);
    offered.stop();
    const counts = await waiting;
    finished.stop();

    const ids = new Set(submitAt.keys());
    const times = await scanMissionTimes(redis, keys.partitions[0].log, tail, ids);
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
      completedRate: windowMs > 0 ? (times.passed.size / windowMs) * 1000 : NaN,
      // The schedule puts the first mission at t = 0 and the last at (total − 1) / rate.
      achievedRate: total > 1 ? (total - 1) / Math.max(0.001, submitSeconds) : total,
      missions: total,
      succeeded: times.passed.size,
      deadLettered: counts.deadLettered - baseline.deadLettered,
      createdToPassed: distribution(createdToPassed),
      submitToPassed: distribution(submitToPassed),
      maxScheduleLagMs: maxLag,
      tickMs: TICK_MS,
      missionIds: [...times.passed.keys()],
    };
  } finally {
    stopWaiting.abort();
    offered.stop();
    finished.stop();
    await Promise.allSettled(batches);
  }
}
