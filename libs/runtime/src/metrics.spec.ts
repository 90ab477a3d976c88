import { Gauge } from 'prom-client';
import { RedisConnection } from '@app/redis';
import { METRIC_COLLECT_TIMEOUT_MS, MetricsRegistry } from './metrics';

describe('MetricsRegistry', () => {
  it('given a gauge whose reading never finishes (Redis down), then a scrape answers without it, and brain_redis_up is 0', async () => {
    jest.useFakeTimers();
    try {
      const registry = new MetricsRegistry('intake', { status: 'reconnecting' } as unknown as RedisConnection);
      new Gauge({ name: 'brain_read_from_redis', help: 'hangs', registers: [registry], collect: () => new Promise<void>(() => undefined) });
      const scrape = registry.metrics();
      await jest.advanceTimersByTimeAsync(METRIC_COLLECT_TIMEOUT_MS);
      const text = await scrape;
      expect(text).not.toContain('brain_read_from_redis');
      expect(text).toMatch(/^brain_redis_up\{service="intake"\} 0$/m);
      expect(text).toMatch(/^process_cpu_seconds_total/m);
    } finally {
      jest.useRealTimers();
    }
  });

  it('given a gauge whose reading fails, then the scrape answers with the others instead of failing whole', async () => {
    const registry = new MetricsRegistry('intake', { status: 'ready' } as unknown as RedisConnection);
    new Gauge({ name: 'brain_failing', help: 'fails', registers: [registry], collect: () => Promise.reject(new Error('Connection is closed.')) });
    const text = await registry.metrics();
    expect(text).not.toContain('brain_failing');
    expect(text).toMatch(/^brain_redis_up\{service="intake"\} 1$/m);
  });
});
