import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { TimeToSuccessMetric } from '@app/pipeline';
import { MetricsRegistry } from '@app/runtime';

@Injectable()
export class EvaluationMetrics {
  readonly verdicts: Counter<'agent' | 'type' | 'verdict'>;
  readonly scores: Histogram<'agent'>;
  readonly timeToSuccess: TimeToSuccessMetric;

  constructor(registry: MetricsRegistry) {
    this.verdicts = new Counter({
      name: 'brain_evaluations_total',
      help: 'Verdicts per agent, mission type and outcome (pass/fail; not_judged: its guest data could not be opened); a pass ends the mission unless the review policy holds it for a reviewer',
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
    this.timeToSuccess = new TimeToSuccessMetric(registry);
  }
}
