import { Registry } from 'prom-client';
import { KeyLayout } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookOutbox } from './webhook-outbox';

describe('WebhookMetrics', () => {
  it('given no delivery attempted yet, when scraped, then the dead deliveries are a series at 0', async () => {
    const registry = new Registry();
    // Only the counter is scraped: the gauges, which read Redis, are not collected.
    new WebhookMetrics(registry, {} as RedisConnection, {} as KeyLayout, {} as WebhookOutbox);

    const text = await registry.getSingleMetricAsString('brain_webhook_attempts_total');

    // The series was born at 1 with the first dead delivery, which increase() (the alert) does not count.
    expect(text).toMatch(/^brain_webhook_attempts_total\{outcome="dead"\} 0$/m);
  });
});
