import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsRegistry } from '@app/runtime';
import { ScheduleRegistry } from './schedule-registry';

/** Recurring schedules in /metrics. */
@Injectable()
export class ScheduleMetrics {
  /** Due times this intake instance dealt with: `fired` (a mission each) or `skipped`. */
  readonly dueTimes: Counter<'outcome'>;

  constructor(registry: MetricsRegistry, schedules: ScheduleRegistry) {
    this.dueTimes = new Counter({
      name: 'brain_schedule_due_times_total',
      help: 'Due times of recurring schedules this intake instance fired (one mission each) or skipped (ScheduleSkipped)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    new Gauge({
      name: 'brain_schedules',
      help: 'Live recurring schedules (shared across intake instances)',
      registers: [registry],
      async collect() {
        this.set(await schedules.count());
      },
    });
  }
}
