import { Counter, Gauge, Registry } from 'prom-client';
import { KeyLayout } from '@app/event-store';
import { RedisConnection } from '@app/redis';
import { ApplyOutcome } from './projection';
import { projectionLag } from './projection-checkpoints';

/**
 * Projection figures in /metrics. The lag is read from Redis at scrape time (the log and the
 * shared checkpoint), so it is right whichever intake instance applied the events.
 */
export class ProjectionMetrics {
  private readonly applied: Counter<'projection'>;
  private readonly ignored: Counter<'projection'>;

  constructor(registry: Registry, redis: RedisConnection, keys: KeyLayout, projectionNames: readonly string[]) {
    this.applied = new Counter({
      name: 'brain_projection_events_applied_total',
      help: 'Events this instance applied to a projection',
      labelNames: ['projection'],
      registers: [registry],
    });
    this.ignored = new Counter({
      name: 'brain_projection_events_ignored_total',
      help: 'Events a projection left out because their mission version was already applied',
      labelNames: ['projection'],
      registers: [registry],
    });
    const lagOf = async (name: string) => projectionLag(redis, keys, name);
    new Gauge({
      name: 'brain_projection_lag_events',
      help: 'Log entries a projection has not applied yet (0 = caught up)',
      labelNames: ['projection'],
      registers: [registry],
      async collect() {
        for (const name of projectionNames) this.set({ projection: name }, (await lagOf(name)).events);
      },
    });
    new Gauge({
      name: 'brain_projection_lag_seconds',
      help: 'How long the oldest log entry a projection has not applied yet has been in the log (0 = caught up)',
      labelNames: ['projection'],
      registers: [registry],
      async collect() {
        for (const name of projectionNames) this.set({ projection: name }, (await lagOf(name)).seconds);
      },
    });
  }

  record(projection: string, outcome: ApplyOutcome): void {
    if (outcome.kind !== 'applied') return;
    this.applied.inc({ projection }, outcome.applied);
    this.ignored.inc({ projection }, outcome.ignored);
  }
}
