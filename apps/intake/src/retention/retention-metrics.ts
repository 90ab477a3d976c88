import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsRegistry } from '@app/runtime';

/** What started a retention round: the intake's timer, or an operator (POST /api/retention/run, `ctl retention`). */
export type RetentionTrigger = 'timer' | 'manual';

/** Retention in /metrics. */
@Injectable()
export class RetentionMetrics {
  /** Subjects this intake instance erased because retention said so. */
  readonly erased: Counter;
  /** Retention rounds this instance ran, by `trigger`: `done`, `skipped` (another intake's turn; timer only) or `failed`. */
  readonly rounds: Counter<'trigger' | 'outcome'>;

  constructor(registry: MetricsRegistry) {
    this.erased = new Counter({
      name: 'brain_retention_subjects_erased_total',
      help: 'Data subjects this intake instance erased because every mission about them was finished and past RETENTION_DAYS',
      registers: [registry],
    });
    this.rounds = new Counter({
      name: 'brain_retention_rounds_total',
      help: "Retention rounds of this intake instance, by trigger (timer or manual): done, skipped (another intake's turn) or failed",
      labelNames: ['trigger', 'outcome'],
      registers: [registry],
    });
  }
}
