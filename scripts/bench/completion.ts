import type Redis from 'ioredis';
import type { KeyLayout } from '../../libs/event-store/src/key-layout';
import { BenchAborted, sleep } from './stats';
import type { Bar } from './ui';

export const POLL_MS = 200;

export interface FinishedCounts {
  succeeded: number;
  deadLettered: number;
  cancelled: number;
}

export function finishedTotal(counts: FinishedCounts): number {
  return counts.succeeded + counts.deadLettered + counts.cancelled;
}

/** The status counters the append script keeps in step with every transition: one HMGET, however many missions. */
export async function finishedCounts(redis: Redis, keys: KeyLayout): Promise<FinishedCounts> {
  const [succeeded, deadLettered, cancelled] = await redis.hmget(keys.partitions[0].statusCounts, 'succeeded', 'dead_lettered', 'cancelled');
  return { succeeded: Number(succeeded ?? 0), deadLettered: Number(deadLettered ?? 0), cancelled: Number(cancelled ?? 0) };
}

export class StalledError extends Error {}

export interface WaitOptions {
  /** Finished missions (over all phases) to wait for. */
  target: number;
  /** Counted from this baseline for the bar. */
  baseline: FinishedCounts;
  bar: Bar;
  stallTimeoutS: number;
  timeoutS: number;
  signal?: AbortSignal;
  /** Called each poll; may raise the target (the HTTP phase learns its count as it goes). */
  retarget?: () => Promise<number>;
}

/**
 * Polls the status counters every 200 ms until `target` missions are finished. Fails when nothing
 * finishes for `stallTimeoutS` (a stuck pipeline) or when `timeoutS` is over.
 */
export async function waitForFinished(redis: Redis, keys: KeyLayout, options: WaitOptions): Promise<FinishedCounts> {
  const started = Date.now();
  let lastProgressAt = started;
  let lastTotal = -1;
  let target = options.target;
  for (;;) {
    if (options.signal?.aborted) throw new BenchAborted();
    if (options.retarget) target = await options.retarget();
    const counts = await finishedCounts(redis, keys);
    const total = finishedTotal(counts);
    const done = total - finishedTotal(options.baseline);
    const seconds = (Date.now() - started) / 1000;
    const dead = counts.deadLettered - options.baseline.deadLettered;
    options.bar.setTotal(target - finishedTotal(options.baseline));
    options.bar.update(done, `${seconds > 0 ? Math.round(done / seconds) : 0}/s${dead > 0 ? ` | ${dead} dead-lettered` : ''}`);
    if (total >= target) return counts;
    if (total !== lastTotal) {
      lastTotal = total;
      lastProgressAt = Date.now();
    }
    if (Date.now() - lastProgressAt > options.stallTimeoutS * 1000) {
      throw new StalledError(`no mission finished for ${options.stallTimeoutS} s (${done} of ${target - finishedTotal(options.baseline)} finished)`);
    }
    if (Date.now() - started > options.timeoutS * 1000) {
      throw new StalledError(`not finished after ${options.timeoutS} s (${done} of ${target - finishedTotal(options.baseline)} finished)`);
    }
    await sleep(POLL_MS, options.signal);
  }
}
