import { MaxTokensParameter, PriceTable } from '@app/config';
import { LlmClient } from './llm-client';
import { MockLlmClient, MockLlmOptions } from './mock-llm-client';
import { OpenAiLlmClient } from './openai-llm-client';

export type LlmProvider = 'mock' | 'openai';

export interface OpenAiSettings {
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  maxRetries?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  prices?: PriceTable;
  maxOutputTokens?: number;
  maxTokensParameter?: MaxTokensParameter;
}

export interface LlmClientSettings {
  provider: LlmProvider;
  mock: MockLlmOptions;
  openai?: OpenAiSettings;
}

/**
 * Picks the client from configuration. Missing OpenAI settings fail here, at startup, rather than as a
 * failed mission later. An empty API key is allowed because local servers (Ollama, vLLM) ignore it.
 */
export function createLlmClient(settings: LlmClientSettings): LlmClient {
  switch (settings.provider) {
    case 'mock':
      return new MockLlmClient(settings.mock);
    case 'openai': {
      const openai = settings.openai;
      const missing = [!openai?.baseUrl?.trim() && 'baseUrl', !openai?.model?.trim() && 'model'].filter((name) => name !== false);
      if (!openai?.baseUrl || !openai.model || missing.length > 0) {
        throw new Error(`LLM provider "openai" needs ${missing.join(' and ')}; set them or use provider "mock"`);
      }
      return new OpenAiLlmClient({
        baseUrl: openai.baseUrl,
        apiKey: openai.apiKey ?? '',
        model: openai.model,
        ...(openai.maxRetries === undefined ? {} : { maxRetries: openai.maxRetries }),
        ...(openai.retryBaseDelayMs === undefined ? {} : { retryBaseDelayMs: openai.retryBaseDelayMs }),
        ...(openai.retryMaxDelayMs === undefined ? {} : { retryMaxDelayMs: openai.retryMaxDelayMs }),
        ...(openai.prices === undefined ? {} : { prices: openai.prices }),
        ...(openai.maxOutputTokens === undefined ? {} : { maxOutputTokens: openai.maxOutputTokens }),
        ...(openai.maxTokensParameter === undefined ? {} : { maxTokensParameter: openai.maxTokensParameter }),
      });
    }
    default:
      throw new Error(`unknown LLM provider "${String(settings.provider satisfies never)}"`);
  }
}
