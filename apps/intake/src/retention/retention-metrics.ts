import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsRegistry } from '@app/runtime';

/** Retention in /metrics. */
@Injectable()
export class RetentionMetrics {
  /** Subjects this intake instance erased because retention said so. */
  readonly erased: Counter;
  /** Retention rounds this instance ran: `done`, `skipped` (another intake's turn) or `failed`. */
  readonly rounds: Counter<'outcome'>;

  constructor(registry: MetricsRegistry) {
    this.erased = new Counter({
      name: 'brain_retention_subjects_erased_total',
      help: 'Data subjects this intake instance erased because every mission about them was finished and past RETENTION_DAYS',
      registers: [registry],
    });
    this.rounds = new Counter({
      name: 'brain_retention_rounds_total',
      help: "Retention rounds of this intake instance: done, skipped (another intake's turn) or failed",
      labelNames: ['outcome'],
      registers: [registry],
    });
  }
}
