import { Provider } from '@nestjs/common';
import { Environment } from '@app/config';
import { LLM_CLIENT, LlmClient, MockLlmClient } from '@app/llm';

export function llmClientProvider(env: Environment): Provider<LlmClient> {
  return {
    provide: LLM_CLIENT,
    useFactory: () =>
      new MockLlmClient({
        latencyMs: env.MOCK_LLM_LATENCY_MS,
        failureRate: env.MOCK_LLM_FAILURE_RATE,
        malformedRate: env.MOCK_LLM_MALFORMED_RATE,
      }),
  };
}
