import { Provider } from '@nestjs/common';
import { Environment } from '@app/config';
import { LLM_CLIENT, LlmClient, observedLlmClientFromEnvironment } from '@app/llm';
import { MetricsRegistry } from '@app/runtime';
import { ServiceTracer } from '@app/tracing';

export function llmClientProvider(env: Environment): Provider<LlmClient> {
  return {
    provide: LLM_CLIENT,
    inject: [MetricsRegistry, ServiceTracer],
    useFactory: (registry: MetricsRegistry, tracer: ServiceTracer) => observedLlmClientFromEnvironment(env, registry, tracer),
  };
}
