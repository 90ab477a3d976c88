import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from '@app/runtime';

/** The dispatcher's figures in /metrics. */
@Injectable()
export class DispatchMetrics {
  /** Claims the slot store refused because their attempt had ended: each is a stale lease handed back. */
  readonly claimsRefused: Counter;
  /** From a mission's MissionQueued to its MissionAssigned: the wait for an agent, end to end. */
  readonly queueWait: Histogram<'type' | 'priority'>;

  constructor(registry: MetricsRegistry) {
    this.claimsRefused = new Counter({
      name: 'brain_dispatch_claims_refused_total',
      help: 'Slot claims refused because the attempt had already ended (a stale lease); the lease was handed back at once',
      registers: [registry],
    });
    this.queueWait = new Histogram({
      name: 'brain_mission_queue_wait_seconds',
      help: 'Time from a mission being queued to its assignment, by type and priority',
      labelNames: ['type', 'priority'],
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers: [registry],
    });
  }
}
