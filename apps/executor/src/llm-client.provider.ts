import { Provider } from '@nestjs/common';
import { Environment } from '@app/config';
import { LLM_CLIENT, LlmClient, llmClientFromEnvironment } from '@app/llm';

export function llmClientProvider(env: Environment): Provider<LlmClient> {
  return { provide: LLM_CLIENT, useFactory: () => llmClientFromEnvironment(env) };
}
