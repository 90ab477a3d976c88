import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsRegistry } from '@app/runtime';

/** The dispatcher's figures in /metrics. */
@Injectable()
export class DispatchMetrics {
  /** Claims the slot store refused because their attempt had ended: each is a stale lease handed back. */
  readonly claimsRefused: Counter;

  constructor(registry: MetricsRegistry) {
    this.claimsRefused = new Counter({
      name: 'brain_dispatch_claims_refused_total',
      help: 'Slot claims refused because the attempt had already ended (a stale lease); the lease was handed back at once',
      registers: [registry],
    });
  }
}
