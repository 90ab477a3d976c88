import { SpanKind, trace } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { ServiceTracer } from '@app/tracing';
import { LlmClient, LlmRequest, LlmResponse } from './llm-client';
import { LlmBilledUsage, LlmError } from './llm-error';
import { LlmMetrics } from './llm-metrics';

/**
 * An LlmClient that measures every call (latency, tokens, cost) and, with tracing on, makes it a
 * client span of the work that asked for it (OpenTelemetry's GenAI conventions).
 *
 * The metrics' `model` label is always the configured model (LLM_MODEL), not the one a reply names:
 * that name is the server's to choose, and a server naming another model per reply (a dated
 * snapshot, a router's pick, or junk) grew the brain_llm_* series without bound, each name a new
 * set of histogram buckets. The configured model bounds them to one set per deployment; the reply's
 * model stays in the span (gen_ai.response.model) and in the mission's result.
 */
export class ObservedLlmClient implements LlmClient {
  private readonly metrics: LlmMetrics;

  constructor(
    private readonly inner: LlmClient,
    /** The configured model: the `model` label of every call's metrics. */
    private readonly model: string,
    registry: Registry,
    private readonly tracer: ServiceTracer,
  ) {
    this.metrics = new LlmMetrics(registry);
  }

  get provider(): string {
    return this.inner.provider;
  }

  complete(request: LlmRequest): Promise<LlmResponse> {
    if (!this.tracer.enabled) return this.measured(request);
    const { missionId, attempt, judge } = request.context;
    return this.tracer.inSpan(
      `chat ${this.model}`,
      null,
      SpanKind.CLIENT,
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': this.inner.provider,
        'gen_ai.request.model': this.model,
        'brain.mission.id': missionId,
        'brain.mission.attempt': attempt,
        'brain.llm.purpose': judge ? 'judge' : 'execute',
      },
      async () => {
        const response = await this.measured(request);
        trace.getActiveSpan()?.setAttributes({
          'gen_ai.response.model': response.model,
          'gen_ai.usage.input_tokens': response.usage.promptTokens,
          'gen_ai.usage.output_tokens': response.usage.completionTokens,
        });
        return response;
      },
    );
  }

  private async measured(request: LlmRequest): Promise<LlmResponse> {
    const provider = this.inner.provider;
    const started = performance.now();
    let response: LlmResponse;
    try {
      response = await this.inner.complete(request);
    } catch (error) {
      this.metrics.duration.observe({ provider, model: this.model, outcome: 'failed' }, (performance.now() - started) / 1000);
      // A reply the provider billed and the client rejected (cut off, filtered, not the schema) cost as much as a good one.
      if (error instanceof LlmError && error.billed) this.count(error.billed);
      throw error;
    }
    this.metrics.duration.observe({ provider, model: this.model, outcome: 'completed' }, (performance.now() - started) / 1000);
    this.count(response);
    return response;
  }

  private count({ usage, costUsd }: LlmBilledUsage): void {
    const labels = { provider: this.inner.provider, model: this.model };
    this.metrics.tokens.inc({ ...labels, kind: 'prompt' }, usage.promptTokens);
    this.metrics.tokens.inc({ ...labels, kind: 'completion' }, usage.completionTokens);
    if (costUsd !== undefined) this.metrics.cost.inc(labels, costUsd);
  }
}
