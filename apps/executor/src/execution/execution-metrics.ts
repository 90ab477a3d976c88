import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from '@app/runtime';

@Injectable()
export class ExecutionMetrics {
  readonly duration: Histogram<'type' | 'outcome'>;
  readonly tokens: Counter<'agent' | 'kind'>;
  readonly staleResults: Counter;

  constructor(registry: MetricsRegistry) {
    this.duration = new Histogram({
      name: 'brain_execution_duration_seconds',
      help: 'LLM execution time per mission type and outcome',
      labelNames: ['type', 'outcome'],
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    });
    this.tokens = new Counter({
      name: 'brain_llm_tokens_total',
      help: 'Tokens used per agent, prompt and completion',
      labelNames: ['agent', 'kind'],
      registers: [registry],
    });
    this.staleResults = new Counter({
      name: 'brain_stale_results_total',
      help: 'Results of attempts that were over (timed out, cancelled, superseded); recorded here and changing nothing',
      registers: [registry],
    });
  }
}
