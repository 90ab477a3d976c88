import { Registry } from 'prom-client';
import { Environment, parsePriceTable } from '@app/config';
import { ServiceTracer } from '@app/tracing';
import { createLlmClient } from './create-llm-client';
import { LlmClient } from './llm-client';
import { MOCK_MODEL } from './mock-llm-client';
import { ObservedLlmClient } from './observed-llm-client';

/** The LLM client the environment configures (LLM_PROVIDER and its settings). */
export function llmClientFromEnvironment(env: Environment): LlmClient {
  return createLlmClient({
    provider: env.LLM_PROVIDER,
    mock: {
      latencyMs: env.MOCK_LLM_LATENCY_MS,
      failureRate: env.MOCK_LLM_FAILURE_RATE,
      malformedRate: env.MOCK_LLM_MALFORMED_RATE,
      flawRate: env.MOCK_LLM_FLAW_RATE,
    },
    openai: {
      baseUrl: env.LLM_BASE_URL,
      apiKey: env.LLM_API_KEY,
      model: env.LLM_MODEL,
      maxRetries: env.LLM_MAX_RETRIES,
      maxOutputTokens: env.LLM_MAX_OUTPUT_TOKENS,
      maxTokensParameter: env.LLM_MAX_TOKENS_PARAMETER,
      ...(env.LLM_PRICES ? { prices: parsePriceTable(env.LLM_PRICES) } : {}),
    },
  });
}

/** That client, measured into `registry` and traced by `tracer` (ObservedLlmClient). */
export function observedLlmClientFromEnvironment(env: Environment, registry: Registry, tracer: ServiceTracer): LlmClient {
  return new ObservedLlmClient(llmClientFromEnvironment(env), env.LLM_PROVIDER === 'openai' ? env.LLM_MODEL : MOCK_MODEL, registry, tracer);
}
