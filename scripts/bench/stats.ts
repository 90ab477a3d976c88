import { setTimeout as delay } from 'node:timers/promises';

export interface Distribution {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Count, min, mean, max and nearest-rank percentiles (always a value that occurred). */
export function distribution(values: readonly number[]): Distribution {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  const rank = (p: number) => (sorted.length ? sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] : NaN);
  return {
    count: sorted.length,
    min: rank(0),
    mean: sorted.length ? sorted.reduce((total, value) => total + value, 0) / sorted.length : NaN,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    max: rank(100),
  };
}

/** A finite number rounded to `digits`, or null (JSON has no NaN). */
export function finiteOrNull(value: number | null | undefined, digits = 0): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : null;
}

/**
 * The ratio of two figures to three significant digits, or null when either is missing or the
 * peer's is not positive. Not to fixed decimals: a system far slower than its peer (0.004 of a
 * bare server's HTTP creates) would read 0, as if it had done nothing.
 */
export function ratioOf(system: number | null, peer: number | null): number | null {
  if (system === null || peer === null || !(peer > 0)) return null;
  const value = system / peer;
  return Number.isFinite(value) ? Number(value.toPrecision(3)) : null;
}

/** Ctrl-C or a crashed service ended the run. */
export class BenchAborted extends Error {
  constructor() {
    super('bench aborted');
    this.name = 'BenchAborted';
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new BenchAborted();
}

/** Resolves after `ms`; rejects with BenchAborted as soon as the bench is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => {
    throw new BenchAborted();
  });
}

/** Math.min / Math.max over many values without spreading them into arguments (a phase may have 100k). */
export function minOf(values: Iterable<number>): number {
  let min = Infinity;
  for (const value of values) if (value < min) min = value;
  return min;
}

export function maxOf(values: Iterable<number>): number {
  let max = -Infinity;
  for (const value of values) if (value > max) max = value;
  return max;
}
