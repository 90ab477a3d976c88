import { countingLoadsOf } from '@app/testing';
import type * as CreateLlmClient from './create-llm-client';

const mock = { latencyMs: 0, failureRate: 0, malformedRate: 0 };

describe('createLlmClient', () => {
  it('given the mock provider, then the OpenAI SDK is not loaded; given openai, then the first client loads it', () => {
    countingLoadsOf('openai', (sdkLoads) => {
      const { createLlmClient } = require('./create-llm-client') as typeof CreateLlmClient; // eslint-disable-line @typescript-eslint/no-require-imports

      expect(createLlmClient({ provider: 'mock', mock }).provider).toBe('mock');
      expect(sdkLoads()).toBe(0);

      const client = createLlmClient({ provider: 'openai', mock, openai: { baseUrl: 'http://127.0.0.1:9/v1', model: 'local-model' } });
      expect(client.provider).toBe('openai');
      expect(sdkLoads()).toBe(1);
    });
  });
});
