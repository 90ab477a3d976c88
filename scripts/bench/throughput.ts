import type Redis from 'ioredis';
import type { KeyLayout } from '../../libs/event-store/src/key-layout';
import { MissionClient } from '../../libs/mission-client/src/mission-client';
import { finishedCounts, waitForFinished } from './completion';
import { logTail, scanMissionTimes } from './log-scan';
import { MissionFactory } from './missions';
import { Distribution, distribution, maxOf, minOf, throwIfAborted } from './stats';
import type { BenchUi } from './ui';

export interface ThroughputResult {
  missions: number;
  succeeded: number;
  deadLettered: number;
  /** succeeded / (last passing MissionEvaluated.at − first MissionCreated.at). */
  missionsPerSecond: number;
  /** That window, ms (event timestamps have ms resolution). */
  windowMs: number;
  /** Time the bench took to hand all missions to the intake stream (createMany calls), ms. */
  submitMs: number;
  /** From the first createMany to the counters showing all finished (includes up to one 200 ms poll), ms. */
  wallMs: number;
  /** Created → passed per mission, under this flood (a queueing figure, not the latency at a steady rate). */
  createdToPassed: Distribution;
  events: number;
  /** Missions of the phase that succeeded (for the footprint sample). */
  missionIds: string[];
}

export interface ThroughputOptions {
  missions: number;
  submitBatch: number;
  stallTimeoutS: number;
  timeoutS: number;
  signal?: AbortSignal;
}

/**
 * N missions through the internal client as fast as the bench can hand them over (createMany in
 * batches), then the throughput from the log: how long the system took from the first
 * MissionCreated to the last passing MissionEvaluated.
 */
export async function measureThroughput(
  redis: Redis,
  keys: KeyLayout,
  factory: MissionFactory,
  options: ThroughputOptions,
  ui: BenchUi,
): Promise<ThroughputResult> {
  const client = new MissionClient(redis, keys.prefix);
  const tail = await logTail(redis, keys.partitions[0].log);
  const baseline = await finishedCounts(redis, keys);
  const bodies = factory.missions(options.missions);
  const ids = new Set<string>();

  const submitted = ui.bar('submitted', options.missions);
  const finished = ui.bar('finished', options.missions);
  const started = Date.now();
  // Ends the wait with the phase (an error in submission must not leave it polling).
  const stopWaiting = new AbortController();
  const waitSignal = options.signal ? AbortSignal.any([options.signal, stopWaiting.signal]) : stopWaiting.signal;
  const waiting = waitForFinished(redis, keys, {
    target: baseline.succeeded + baseline.deadLettered + baseline.cancelled + options.missions,
    baseline,
    bar: finished,
    stallTimeoutS: options.stallTimeoutS,
    timeoutS: options.timeoutS,
    signal: waitSignal,
  });
  // A rejected wait must not go unhandled while submission is still running.
  waiting.catch(() => undefined);
  let submitMs = 0;
  try {
    for (let offset = 0; offset < bodies.length; offset += options.submitBatch) {
      throwIfAborted(options.signal);
      for (const id of await client.createMany(bodies.slice(offset, offset + options.submitBatch))) ids.add(id);
      const elapsed = (Date.now() - started) / 1000;
      submitted.update(ids.size, `${elapsed > 0 ? Math.round(ids.size / elapsed) : 0}/s`);
    }
    submitMs = Date.now() - started;
    submitted.stop();
    const counts = await waiting;
    const wallMs = Date.now() - started;
    finished.stop();

    const times = await scanMissionTimes(redis, keys.partitions[0].log, tail, ids);
    const firstCreated = minOf(times.created.values());
    const lastPassed = maxOf(times.passed.values());
    const windowMs = lastPassed - firstCreated;
    const perMission: number[] = [];
    for (const [id, passedAt] of times.passed) {
      const createdAt = times.created.get(id);
      if (createdAt !== undefined) perMission.push(passedAt - createdAt);
    }
    return {
      missions: options.missions,
      succeeded: times.passed.size,
      deadLettered: counts.deadLettered - baseline.deadLettered,
      // A window of 0 ms (a handful of missions inside one ms) has no meaningful rate.
      missionsPerSecond: windowMs > 0 ? (times.passed.size / windowMs) * 1000 : NaN,
      windowMs,
      submitMs,
      wallMs,
      createdToPassed: distribution(perMission),
      events: times.events,
      missionIds: [...times.passed.keys()],
    };
  } finally {
    stopWaiting.abort();
    submitted.stop();
    finished.stop();
  }
}
