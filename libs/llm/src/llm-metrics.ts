import { Counter, Histogram, Registry } from 'prom-client';

/** LLM figures in /metrics, by provider and configured model (LLM_MODEL), for whichever service calls a model. */
export class LlmMetrics {
  readonly duration: Histogram<'provider' | 'model' | 'outcome'>;
  readonly tokens: Counter<'provider' | 'model' | 'kind'>;
  readonly cost: Counter<'provider' | 'model'>;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: 'brain_llm_request_duration_seconds',
      help: 'LLM calls (retries included) by provider, configured model and outcome (completed/failed)',
      labelNames: ['provider', 'model', 'outcome'],
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    });
    this.tokens = new Counter({
      name: 'brain_llm_request_tokens_total',
      help: 'Tokens the provider billed by provider, configured model and kind (prompt/completion): completed calls and rejected replies',
      labelNames: ['provider', 'model', 'kind'],
      registers: [registry],
    });
    this.cost = new Counter({
      name: 'brain_llm_cost_usd_total',
      help: "Cost the provider billed in USD by provider and configured model (completed calls and rejected replies), from the client's price table",
      labelNames: ['provider', 'model'],
      registers: [registry],
    });
  }
}
