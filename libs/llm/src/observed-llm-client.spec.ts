import { Registry } from 'prom-client';
import { FakeChatCompletionsServer } from '@app/testing';
import { ServiceTracer } from '@app/tracing';
import { LlmClient, LlmRequest, LlmResponse } from './llm-client';
import { LlmError, LlmErrorCode } from './llm-error';
import { ObservedLlmClient } from './observed-llm-client';
import { OpenAiLlmClient } from './openai-llm-client';

const request: LlmRequest = {
  systemPrompt: 'You are an agent.',
  messages: [{ role: 'user', content: 'Fix the tap.' }],
  outputSchema: {},
  timeoutMs: 1_000,
  context: { missionId: 'm-1', attempt: 1, missionType: 'maintenance', title: 'Tap', description: 'Leaking', payload: {} },
};

/** Answers with a fixed response, or fails, as told. */
class ScriptedClient implements LlmClient {
  readonly provider = 'openai';
  fail = false;
  rejectBilled = false;

  async complete(): Promise<LlmResponse> {
    if (this.fail) throw new LlmError(LlmErrorCode.ProviderError, 'upstream 503', true);
    if (this.rejectBilled) {
      const billed = { usage: { promptTokens: 100, completionTokens: 2000 }, model: 'gpt-x-2026', costUsd: 0.01 };
      throw new LlmError(LlmErrorCode.MalformedOutput, 'the reply hit the token limit (finish_reason length)', true, undefined, billed);
    }
    return { output: {}, rawText: '{}', usage: { promptTokens: 120, completionTokens: 30 }, model: 'gpt-x-2026', latencyMs: 5, costUsd: 0.002 };
  }
}

describe('ObservedLlmClient', () => {
  const value = async (registry: Registry, name: string, labels: Record<string, string>) =>
    (await registry.getSingleMetric(name)?.get())?.values.find((v) => Object.entries(labels).every(([key, label]) => v.labels[key] === label))?.value;

  it('given completed and failed calls, then it counts latency by outcome, tokens and cost by provider and the configured model', async () => {
    const registry = new Registry();
    const inner = new ScriptedClient();
    const client = new ObservedLlmClient(inner, 'gpt-x', registry, new ServiceTracer(null));

    await client.complete(request);
    await client.complete(request);
    inner.fail = true;
    await expect(client.complete(request)).rejects.toThrow('upstream 503');

    expect(client.provider).toBe('openai');
    const counts = (await registry.getSingleMetric('brain_llm_request_duration_seconds')?.get())?.values.filter(
      (v) => (v as { metricName?: string }).metricName === 'brain_llm_request_duration_seconds_count',
    );
    expect(counts?.map((v) => [v.labels.model, v.labels.outcome, v.value])).toEqual([
      ['gpt-x', 'completed', 2],
      ['gpt-x', 'failed', 1],
    ]);
    expect(await value(registry, 'brain_llm_request_tokens_total', { model: 'gpt-x', kind: 'prompt' })).toBe(240);
    expect(await value(registry, 'brain_llm_request_tokens_total', { model: 'gpt-x', kind: 'completion' })).toBe(60);
    expect(await value(registry, 'brain_llm_cost_usd_total', { provider: 'openai', model: 'gpt-x' })).toBeCloseTo(0.004);
  });

  it('given a reply the provider billed and the client rejected, then its tokens and cost are counted', async () => {
    const registry = new Registry();
    const inner = new ScriptedClient();
    const client = new ObservedLlmClient(inner, 'gpt-x', registry, new ServiceTracer(null));
    inner.rejectBilled = true;

    await expect(client.complete(request)).rejects.toThrow('finish_reason length');
    await expect(client.complete(request)).rejects.toThrow('finish_reason length');

    expect(await value(registry, 'brain_llm_request_tokens_total', { model: 'gpt-x', kind: 'prompt' })).toBe(200);
    expect(await value(registry, 'brain_llm_request_tokens_total', { model: 'gpt-x', kind: 'completion' })).toBe(4000);
    expect(await value(registry, 'brain_llm_cost_usd_total', { provider: 'openai', model: 'gpt-x' })).toBeCloseTo(0.02);
  });

  describe('over a chat-completions server', () => {
    const server = new FakeChatCompletionsServer();
    let baseUrl: string;
    beforeAll(async () => {
      baseUrl = await server.start();
    });
    afterAll(() => server.stop());

    it('given replies that name another model each, then /metrics keeps the series of the configured model only', async () => {
      // Labelled by the reply's model: each new name added a histogram's series, without bound, and a
      // 2 MB name made /metrics 34 MB.
      const registry = new Registry();
      const inner = new OpenAiLlmClient({ baseUrl, apiKey: 'sk-test', model: 'gpt-4o-mini', maxRetries: 0 });
      const client = new ObservedLlmClient(inner, 'gpt-4o-mini', registry, new ServiceTracer(null));
      const named = [...Array.from({ length: 20 }, (_, i) => `gpt-4o-mini-router-${i}`), 'x'.repeat(2_000_000)];
      const usage = { promptTokens: 10, completionTokens: 5 };
      const plan = JSON.stringify({ urgency: 'low', steps: ['Replace the washer'], safetyNotes: [], parts: ['washer'] });
      for (const model of named) server.enqueue({ status: 200, content: plan, model, usage });

      for (const model of named) expect((await client.complete(request)).model).toBe(model.length > 100 ? 'gpt-4o-mini' : model);

      const metrics = await registry.metrics();
      expect(new Set([...metrics.matchAll(/model="([^"]*)"/g)].map(([, model]) => model))).toEqual(new Set(['gpt-4o-mini']));
      expect(metrics.length).toBeLessThan(10_000);
      expect(await value(registry, 'brain_llm_request_tokens_total', { model: 'gpt-4o-mini', kind: 'prompt' })).toBe(10 * named.length);
    });
  });
});
