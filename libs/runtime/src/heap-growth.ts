import { setFlagsFromString } from 'node:v8';

/**
 * HEAP_GROWING_PERCENT when unset, by what the process runs. Under load V8 lets the heap of a
 * service whose live objects take ~45 MB grow to ~150 MB before it collects: garbage, not data,
 * and most of the services' peak RSS. 50 cost a service's process no throughput; the one process
 * takes all four services' garbage in one heap, and at 50 it spent ~13 % more CPU, at 100 ~5 %
 * (docs/performance.md § 3.7).
 */
export const DEFAULT_HEAP_GROWING_PERCENT = { service: 50, oneProcess: 100 } as const;

export type HeapOwner = keyof typeof DEFAULT_HEAP_GROWING_PERCENT;

/** The V8 flag for a heap growing percent, or null for 0 (V8's own growth). */
export function heapGrowthFlag(percent: number): string | null {
  return percent > 0 ? `--heap-growing-percent=${percent}` : null;
}

/** Applies HEAP_GROWING_PERCENT (or the owner's default) to this process; V8 reads it at each full collection. */
export function limitHeapGrowth(configured: number | undefined, owner: HeapOwner): void {
  const flag = heapGrowthFlag(configured ?? DEFAULT_HEAP_GROWING_PERCENT[owner]);
  if (flag) setFlagsFromString(flag);
}
