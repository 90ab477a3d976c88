import { setFlagsFromString } from 'node:v8';

/**
 * The V8 flag that fixes the heap growing factor at 1 + percent/100 (HEAP_GROWING_PERCENT); null
 * for 0, which leaves the factor to V8. Under load V8 let the heap of a service whose live objects
 * take ~40–48 MB grow to ~160 MB before it collected: garbage, not data, and most of the services'
 * peak RSS (docs/performance.md § 3.7).
 */
export function heapGrowthFlag(percent: number): string | null {
  return percent > 0 ? `--heap-growing-percent=${percent}` : null;
}

/**
 * Applies heapGrowthFlag to this process, before its application is built. Node refuses the flag
 * in NODE_OPTIONS; V8 reads it whenever it sets the next collection's limit, so setting it at run
 * time holds from the next collection on.
 */
export function limitHeapGrowth(percent: number): void {
  const flag = heapGrowthFlag(percent);
  if (flag) setFlagsFromString(flag);
}
