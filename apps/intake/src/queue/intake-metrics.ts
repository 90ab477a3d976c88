import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { ReadyQueue } from '@app/mission-queue';
import { MetricsRegistry } from '@app/runtime';

/** The intake's figures in /metrics; queue gauges are read from Redis at scrape time. */
@Injectable()
export class IntakeMetrics {
  readonly created: Counter<'type' | 'priority'>;

  constructor(registry: MetricsRegistry, queue: ReadyQueue) {
    this.created = new Counter({
      name: 'brain_missions_created_total',
      help: 'Missions created by this intake instance, by type and priority',
      labelNames: ['type', 'priority'],
      registers: [registry],
    });
    new Gauge({
      name: 'brain_queue_missions',
      help: 'Missions by queue state (shared across intake instances)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const stats = await queue.stats();
        this.set({ state: 'ready' }, stats.ready);
        this.set({ state: 'leased' }, stats.leased);
        this.set({ state: 'in_flight' }, stats.inFlight);
        this.set({ state: 'dead_lettered' }, stats.deadLettered);
        this.set({ state: 'scheduled' }, stats.scheduled);
        this.set({ state: 'backoff' }, stats.backoff);
      },
    });
    new Gauge({
      name: 'brain_queue_ready_missions',
      help: 'Ready missions by priority level (shared across intake instances)',
      labelNames: ['priority'],
      registers: [registry],
      async collect() {
        for (const [priority, count] of Object.entries((await queue.stats()).readyByPriority)) this.set({ priority }, count);
      },
    });
    new Gauge({
      name: 'brain_queue_oldest_ready_age_seconds',
      help: 'How long the longest-waiting ready mission has waited (0 when none is ready)',
      registers: [registry],
      async collect() {
        this.set((await queue.stats()).oldestReadyAgeMs / 1000);
      },
    });
    new Gauge({
      name: 'brain_queue_lease_expiries',
      help: 'Leases that ran out and returned their mission to the ready queue, since the start of the deployment',
      registers: [registry],
      async collect() {
        this.set((await queue.stats()).leaseExpired);
      },
    });
    new Gauge({
      name: 'brain_missions_overdue',
      help: 'Unfinished missions past their deadline, by state: dead_lettered, or active (shared across intake instances)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        // Apart, because a dead letter stays overdue until an operator requeues or cancels it: an alert on every overdue mission never resolved.
        const { overdue, overdueDeadLettered } = await queue.stats();
        this.set({ state: 'active' }, overdue - overdueDeadLettered);
        this.set({ state: 'dead_lettered' }, overdueDeadLettered);
      },
    });
    new Counter({
      name: 'brain_missions_overdue_total',
      help: 'Missions recorded as overdue (MissionOverdue) since the start of the deployment (shared across intake instances: aggregate with max, not sum)',
      registers: [registry],
      async collect() {
        // The count lives in Redis, shared by every intake: shown as read, not counted here.
        this.reset();
        this.inc((await queue.stats()).overdueRecorded);
      },
    });
  }
}
