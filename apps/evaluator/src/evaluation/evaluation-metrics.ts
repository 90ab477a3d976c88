import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from '@app/runtime';

@Injectable()
export class EvaluationMetrics {
  readonly verdicts: Counter<'agent' | 'type' | 'verdict'>;
  readonly scores: Histogram<'agent'>;
  readonly timeToSuccess: Histogram<'type' | 'priority'>;

  constructor(registry: MetricsRegistry) {
    this.verdicts = new Counter({
      name: 'brain_evaluations_total',
      help: 'Verdicts per agent, mission type and outcome (pass/fail; not_judged: its guest data could not be opened); passes are missions done',
      labelNames: ['agent', 'type', 'verdict'],
      registers: [registry],
    });
    this.scores = new Histogram({
      name: 'brain_evaluation_score',
      help: 'Evaluation scores (0..1) per agent, judged verdicts only; _sum / _count is the mean score',
      labelNames: ['agent'],
      buckets: [0.25, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 1],
      registers: [registry],
    });
    this.timeToSuccess = new Histogram({
      name: 'brain_mission_time_to_success_seconds',
      help: 'Time from a mission being created to its passing verdict (all attempts and waits), by type and priority',
      labelNames: ['type', 'priority'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 900, 3600],
      registers: [registry],
    });
  }
}
