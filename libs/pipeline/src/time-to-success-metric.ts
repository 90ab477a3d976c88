import { Histogram, Registry } from 'prom-client';
import { Mission } from '@app/mission';

/**
 * brain_mission_time_to_success_seconds, in whichever service makes a mission succeed: the
 * evaluator when a pass ends it, the intake when a reviewer approves a result the review policy
 * held. One definition, so the two services' series add up (`sum by (type)` over both).
 */
export class TimeToSuccessMetric {
  private readonly histogram: Histogram<'type' | 'priority'>;

  constructor(registry: Registry) {
    this.histogram = new Histogram({
      name: 'brain_mission_time_to_success_seconds',
      help: 'Time from a mission being created to its success (all attempts, waits and review), by type and priority; the evaluator exports passes that end the mission, the intake approvals',
      labelNames: ['type', 'priority'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 900, 3600],
      registers: [registry],
    });
  }

  /** Observes `mission` as an append that took effect left it: only when that append made it succeed. */
  observe(mission: Mission): void {
    if (mission.status !== 'succeeded') return;
    this.histogram.observe({ type: mission.type, priority: mission.priority }, (Date.parse(mission.updatedAt) - Date.parse(mission.createdAt)) / 1000);
  }
}
