import { Counter, Gauge, Registry } from 'prom-client';
import { KeyLayout } from '@app/event-store';
import { projectionLag } from '@app/projections';
import { RedisConnection } from '@app/redis';
import { AttemptOutcome } from './webhook-dispatcher';
import { WEBHOOK_OUTBOX } from './webhook-keys';
import { WebhookOutbox } from './webhook-outbox';

/** Webhook figures in /metrics; the backlog and the outbox lag are read from Redis at scrape time. */
export class WebhookMetrics {
  private readonly attempts: Counter<'outcome'>;
  private readonly disabled: Counter;

  constructor(registry: Registry, redis: RedisConnection, keys: KeyLayout, outbox: WebhookOutbox) {
    this.attempts = new Counter({
      name: 'brain_webhook_attempts_total',
      help: 'Webhook requests this instance settled, by outcome (delivered, retry: failed, dead), and deliveries given up (dead) or dropped (drop) without one; a try that sent nothing and waits, or a request cut short by a shutdown, is none',
      labelNames: ['outcome'],
      registers: [registry],
    });
    // From 0, so that the first dead delivery of an instance is an increase (BrainWebhookDeliveriesDead); a series born at 1 shows none.
    this.attempts.inc({ outcome: 'dead' }, 0);
    this.disabled = new Counter({
      name: 'brain_webhook_endpoints_disabled_total',
      help: 'Webhook subscriptions this instance disabled because their endpoint kept failing',
      registers: [registry],
    });
    new Gauge({
      name: 'brain_webhook_backlog',
      help: 'Webhook deliveries waiting, due now or later (retries and those behind an earlier delivery of their mission included)',
      registers: [registry],
      async collect() {
        this.set(await outbox.backlog());
      },
    });
    new Gauge({
      name: 'brain_webhook_outbox_lag_events',
      help: 'Log entries the webhook outbox has not turned into deliveries yet (0 = caught up)',
      registers: [registry],
      async collect() {
        this.set((await projectionLag(redis, keys, WEBHOOK_OUTBOX)).events);
      },
    });
  }

  attempt(outcome: AttemptOutcome): void {
    this.attempts.inc({ outcome });
  }

  endpointDisabled(): void {
    this.disabled.inc();
  }
}
