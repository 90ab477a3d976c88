import { setFlagsFromString } from 'node:v8';

/**
 * HEAP_GROWING_PERCENT when unset, by what the process runs. Under load V8 let the heap of a
 * service whose live objects take ~40–48 MB grow to ~160 MB before it collected: garbage, not data,
 * and most of the services' peak RSS. 50 cost a service's process no throughput the bench could
 * tell; the one process takes all four services' garbage in one heap, and at 50 it spent ~13 % more
 * CPU per mission, at 100 ~5 % (docs/performance.md § 3.7).
 */
export const DEFAULT_HEAP_GROWING_PERCENT = { service: 50, oneProcess: 100 } as const;

export type HeapOwner = keyof typeof DEFAULT_HEAP_GROWING_PERCENT;

/**
 * The V8 flag that fixes the heap growing factor at 1 + percent/100 (HEAP_GROWING_PERCENT, or the
 * owner's default); null for 0, which leaves the factor to V8.
 */
export function heapGrowthFlag(configured: number | undefined, owner: HeapOwner): string | null {
  const percent = configured ?? DEFAULT_HEAP_GROWING_PERCENT[owner];
  return percent > 0 ? `--heap-growing-percent=${percent}` : null;
}

/**
 * Applies heapGrowthFlag to this process, before its application is built. Node refuses the flag
 * in NODE_OPTIONS; V8 reads it whenever it sets the next collection's limit, so setting it at run
 * time holds from the next collection on.
 */
export function limitHeapGrowth(configured: number | undefined, owner: HeapOwner): void {
  const flag = heapGrowthFlag(configured, owner);
  if (flag) setFlagsFromString(flag);
}
