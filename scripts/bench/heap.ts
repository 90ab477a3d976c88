import type { Service } from './rss';

export interface HeapPeak {
  /** V8 heap reserved (nodejs_heap_size_total_bytes), MB. */
  heapTotalMb: number;
  /** V8 heap in use (nodejs_heap_size_used_bytes), MB. */
  heapUsedMb: number;
  /** Buffers and other memory outside the V8 heap (nodejs_external_memory_bytes), MB. */
  externalMb: number;
}

function gauge(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text);
  return match ? Number(match[1]) / 1024 / 1024 : undefined;
}

/**
 * Polls each service's Prometheus endpoint (prom-client's default Node metrics) and keeps the
 * largest heap and external-memory figures seen, to tell what a peak RSS was made of.
 */
export class HeapSampler {
  private readonly peaks = new Map<Service, HeapPeak>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;

  constructor(private readonly urls: Partial<Record<Service, string>>) {}

  start(intervalMs = 2_000): void {
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }

  async sample(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      await Promise.all(
        (Object.entries(this.urls) as [Service, string][]).map(async ([service, url]) => {
          try {
            const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
            const text = await response.text();
            const heapTotalMb = gauge(text, 'nodejs_heap_size_total_bytes');
            const heapUsedMb = gauge(text, 'nodejs_heap_size_used_bytes');
            const externalMb = gauge(text, 'nodejs_external_memory_bytes');
            if (heapTotalMb === undefined || heapUsedMb === undefined || externalMb === undefined) return;
            const peak = this.peaks.get(service);
            this.peaks.set(service, {
              heapTotalMb: Math.max(peak?.heapTotalMb ?? 0, heapTotalMb),
              heapUsedMb: Math.max(peak?.heapUsedMb ?? 0, heapUsedMb),
              externalMb: Math.max(peak?.externalMb ?? 0, externalMb),
            });
          } catch {
            // A busy service may not answer in time; the next sample counts.
          }
        }),
      );
    } finally {
      this.inFlight = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  peak(service: Service): HeapPeak | undefined {
    return this.peaks.get(service);
  }
}
