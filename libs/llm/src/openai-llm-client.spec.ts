import { createServer as createHttpServer, Server, ServerResponse } from 'node:http';
import { AddressInfo, createServer } from 'node:net';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { parsePriceTable } from '@app/config';
import { Mission, OUTPUT_SCHEMAS } from '@app/mission';
import { FakeChatCompletionsServer, rejectionOf, ScriptedReply } from '@app/testing';
import { createLlmClient } from './create-llm-client';
import { LlmRequest } from './llm-client';
import { LlmError, LlmErrorCode } from './llm-error';
import { MockLlmClient } from './mock-llm-client';
import { backoffDelayMs, MAX_REPLY_BYTES, OpenAiLlmClient, OpenAiLlmClientOptions, parseRetryAfterMs, strictJsonSchema } from './openai-llm-client';
import { costOf, DEFAULT_PRICE_TABLE } from './price-table';
import { buildLlmRequest } from './prompt-builder';

const NOW = '2026-11-26T08:00:00.000Z';
const API_KEY = 'sk-test-0123456789abcdef-secret';
const SYSTEM_PROMPT = 'You work for Hotel Seeblick.';

function mission(overrides: Partial<Mission> = {}): Mission {
  return {
    id: 'm-1',
    type: 'guest_support',
    title: 'Late checkout request',
    description: 'Guest asks for a late checkout.',
    priority: 'normal',
    priorityScore: 30,
    requiredSkills: ['guest_communication'],
    payload: { message: 'Could I check out at 14:00, please?' },
    status: 'running',
    attempts: 1,
    assignedAgentId: 'agent-1',
    previousAgentIds: [],
    result: null,
    evaluation: null,
    feedback: null,
    lastError: null,
    correlationId: 'c-1',
    version: 3,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

const GUEST_REPLY = JSON.stringify({
  language: 'en',
  reply: 'Dear guest, a late checkout at 14:00 is fine. Kind regards, Hotel Seeblick',
  actions: ['Note late checkout 14:00 in the PMS'],
});

const request = (extra: { timeoutMs?: number; signal?: AbortSignal; mission?: Mission } = {}): LlmRequest =>
  buildLlmRequest(extra.mission ?? mission(), { systemPrompt: SYSTEM_PROMPT, timeoutMs: extra.timeoutMs ?? 5000, signal: extra.signal });

/** Polls the server's record instead of sleeping a guessed amount. */
async function untilRequests(server: FakeChatCompletionsServer, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (server.requests.length < count) {
    if (Date.now() > deadline) throw new Error(`server saw ${server.requests.length} of ${count} requests`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A loopback port nothing listens on: bind port 0, note it, release it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('OpenAiLlmClient against a chat-completions server', () => {
  const server = new FakeChatCompletionsServer();
  let baseUrl: string;

  const client = (options: Partial<OpenAiLlmClientOptions> = {}) =>
    new OpenAiLlmClient({ baseUrl, apiKey: API_KEY, model: 'gpt-4o-mini', maxRetries: 3, retryBaseDelayMs: 10, retryMaxDelayMs: 100, ...options });

  beforeAll(async () => {
    baseUrl = await server.start();
  });
  afterAll(() => server.stop());
  beforeEach(() => server.reset());

  describe('success', () => {
    it('given a valid structured reply, when completed, then the output is parsed and the request carried model, prompts, schema and key', async () => {
      server.enqueue({ status: 200, content: GUEST_REPLY, model: 'gpt-4o-mini-2024-07-18', usage: { promptTokens: 1000, completionTokens: 500 } });
      const llmRequest = request();

      const response = await client().complete(llmRequest);

      expect(response.output).toEqual(JSON.parse(GUEST_REPLY));
      expect(response.rawText).toBe(GUEST_REPLY);
      expect(response.model).toBe('gpt-4o-mini-2024-07-18');
      expect(response.usage).toEqual({ promptTokens: 1000, completionTokens: 500 });
      expect(response.attempts).toBe(1);
      expect(response.latencyMs).toBeGreaterThanOrEqual(0);

      expect(server.requests).toHaveLength(1);
      const [sent] = server.requests;
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe('/v1/chat/completions');
      expect(sent.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(sent.body.model).toBe('gpt-4o-mini');
      expect(sent.body.stream).toBeUndefined();
      expect(sent.body.messages).toEqual([
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: llmRequest.messages[0].content },
      ]);
      expect(sent.body.response_format).toEqual({
        type: 'json_schema',
        json_schema: { name: 'guest_support_output', schema: strictJsonSchema(OUTPUT_SCHEMAS.guest_support), strict: true },
      });
    });

    it.each(['pricing', 'maintenance'] as const)('given a %s mission, when completed, then response_format names and carries that schema', async (type) => {
      const content =
        type === 'pricing'
          ? JSON.stringify({ recommendedRate: 159, currency: 'EUR', changePercent: 6, reason: 'High occupancy.' })
          : JSON.stringify({ urgency: 'high', steps: ['Shut off water', 'Replace siphon'], safetyNotes: ['Dry the floor'], parts: ['siphon'] });
      server.enqueue({ status: 200, content });

      const response = await client().complete(request({ mission: mission({ type }) }));

      expect(response.output).toEqual(JSON.parse(content));
      const format = server.requests[0].body.response_format;
      expect(format).toMatchObject({ json_schema: { name: `${type}_output`, strict: true, schema: { required: [...OUTPUT_SCHEMAS[type].required] } } });
    });

    it('given the outgoing schema, when made strict, then only keywords strict mode rejects are dropped', () => {
      const strict = strictJsonSchema(OUTPUT_SCHEMAS.guest_support);
      for (const keyword of ['minLength', 'maxLength', 'maxItems']) expect(JSON.stringify(strict)).not.toContain(keyword);
      expect(JSON.stringify(OUTPUT_SCHEMAS.guest_support)).toContain('maxItems');
      expect(strict).toMatchObject({ type: 'object', additionalProperties: false, required: ['language', 'reply', 'actions'] });
      expect(strict.properties).toMatchObject({ language: { type: 'string', enum: ['de', 'en', 'fr', 'it', 'es', 'nl'] }, reply: { type: 'string' } });
      expect(strictJsonSchema(OUTPUT_SCHEMAS.pricing).properties).toMatchObject({ currency: { pattern: '^[A-Z]{3}$' } });
    });
  });

  describe('the model the reply names', () => {
    it.each([
      ['2,000,000 characters long', 'gpt-4o-mini-'.padEnd(2_000_000, 'x')],
      ['101 characters long', 'm'.repeat(101)],
      ['holding ESC and a line break', 'gpt-4o-mini\u001b[31m\nbrain_llm_cost_usd_total 1e9'],
      ['holding U+202E', 'gpt-4o-mini\u202eevil'],
      ['holding a space', 'gpt 4o'],
      ['empty', ''],
    ])('given a reply naming a model %s, then the response and its billed usage name the configured model', async (_, named) => {
      // Taken as given: a 2 MB name went into MissionCompleted.result.model, and control characters out raw into /metrics.
      server.enqueue({ status: 200, content: GUEST_REPLY, model: named, usage: { promptTokens: 10, completionTokens: 5 } });
      server.enqueue({ status: 200, content: 'not JSON', model: named, usage: { promptTokens: 10, completionTokens: 5 } });

      expect((await client().complete(request())).model).toBe('gpt-4o-mini');
      expect((await rejectionOf(client().complete(request()), LlmError)).billed?.model).toBe('gpt-4o-mini');
    });

    it.each([
      ['a dated snapshot', 'gpt-4o-mini-2024-07-18'],
      ['an Ollama tag', 'llama3.1:8b'],
      ['a Hugging Face path', 'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M'],
      ['a revision', 'org/model@rev+1'],
      ['100 characters', 'm'.repeat(100)],
    ])('given a reply naming a model id (%s), then it is kept', async (_, named) => {
      server.enqueue({ status: 200, content: GUEST_REPLY, model: named });
      expect((await client().complete(request())).model).toBe(named);
    });
  });

  describe('output limit', () => {
    it('given maxOutputTokens, then each request names it as max_completion_tokens; given max_tokens as the field, then under that name', async () => {
      server.enqueue({ status: 200, content: GUEST_REPLY });
      server.enqueue({ status: 200, content: GUEST_REPLY });

      await client({ maxOutputTokens: 800 }).complete(request());
      await client({ maxOutputTokens: 800, maxTokensParameter: 'max_tokens' }).complete(request());

      const [current, older] = server.requests.map((sent) => sent.body);
      expect(current).toMatchObject({ max_completion_tokens: 800 });
      expect(current).not.toHaveProperty('max_tokens');
      expect(older).toMatchObject({ max_tokens: 800 });
      expect(older).not.toHaveProperty('max_completion_tokens');
    });

    it('given no limit (0 or none), then the request names none', async () => {
      server.enqueue({ status: 200, content: GUEST_REPLY });
      server.enqueue({ status: 200, content: GUEST_REPLY });

      await client().complete(request());
      await client({ maxOutputTokens: 0 }).complete(request());

      for (const sent of server.requests) {
        expect(sent.body).not.toHaveProperty('max_completion_tokens');
        expect(sent.body).not.toHaveProperty('max_tokens');
      }
    });

    it('given a reply the limit cut off, then it is a retryable MalformedOutput that says it hit the token limit', async () => {
      server.enqueue({ status: 200, content: GUEST_REPLY });

      const error = await rejectionOf(client({ maxOutputTokens: 10 }).complete(request()), LlmError);

      expect(error).toMatchObject({ code: LlmErrorCode.MalformedOutput, retryable: true });
      expect(error.message).toContain('the reply hit the token limit');
    });

    it.each([
      ['length', 'the reply hit the token limit (finish_reason length)'],
      ['content_filter', "the provider's content filter stopped the reply (finish_reason content_filter)"],
    ])(
      'given a reply the provider stopped (finish_reason %s) whose JSON parses, then it is a retryable MalformedOutput saying so',
      async (finishReason, why) => {
        // Taken when what came happened to parse: a stopped reply was used as the mission's result.
        server.enqueue({ status: 200, content: GUEST_REPLY, finishReason });

        const error = await rejectionOf(client().complete(request()), LlmError);

        expect(error).toMatchObject({ code: LlmErrorCode.MalformedOutput, retryable: true, message: why });
      },
    );
  });

  describe('rejected replies the provider billed', () => {
    const usage = { promptTokens: 1000, completionTokens: 2000 };
    const price = (1000 * 0.15 + 2000 * 0.6) / 1_000_000;
    const noContent = (finishReason: string): ScriptedReply => ({
      body: {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 0,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null }, finish_reason: finishReason }],
        usage: { prompt_tokens: 1000, completion_tokens: 2000, total_tokens: 3000 },
      },
    });
    it.each<[string, ScriptedReply]>([
      ['cut off at the token limit (finish_reason length)', { status: 200, content: GUEST_REPLY.slice(0, 40), usage, finishReason: 'length' }],
      ['stopped by the content filter', { status: 200, content: '', usage, finishReason: 'content_filter' }],
      ['JSON that parses, stopped by the content filter', { status: 200, content: GUEST_REPLY, usage, finishReason: 'content_filter' }],
      ['stopped by the content filter, without content', noContent('content_filter')],
      ['empty', { status: 200, content: '', usage }],
      ['prose instead of JSON', { status: 200, content: 'Sure! Here is your answer: a late checkout is fine.', usage }],
      ['JSON off the schema', { status: 200, content: JSON.stringify({ language: 'pt', reply: 'Bom dia', actions: [] }), usage }],
    ])('given a 200 with usage whose reply is %s, then the MalformedOutput carries the billed usage and cost', async (_, reply) => {
      server.enqueue(reply);
      const error = await rejectionOf(client().complete(request()), LlmError);
      expect(error).toMatchObject({ code: LlmErrorCode.MalformedOutput, retryable: true });
      expect(error.billed).toEqual({ usage, model: 'gpt-4o-mini', costUsd: expect.closeTo(price, 12) as number });
    });

    it('given a rejected 200 without usage, then it carries no billed usage (nothing to count)', async () => {
      server.enqueue({ body: { error: { message: 'model is loading' } } });
      const error = await rejectionOf(client().complete(request()), LlmError);
      expect(error.billed).toBeUndefined();
    });
  });

  describe('cost', () => {
    it('given a dated snapshot of a priced model, when completed, then costUsd uses the longest matching price', async () => {
      server.enqueue({ status: 200, content: GUEST_REPLY, model: 'gpt-4o-mini-2024-07-18', usage: { promptTokens: 1000, completionTokens: 500 } });
      const response = await client().complete(request());
      expect(response.costUsd).toBeCloseTo((1000 * 0.15 + 500 * 0.6) / 1_000_000, 12);
    });

    it('given a custom price table, when completed, then it is used instead of the defaults', async () => {
      server.enqueue({ status: 200, content: GUEST_REPLY, model: 'house-model', usage: { promptTokens: 2_000_000, completionTokens: 1_000_000 } });
      const response = await client({ model: 'house-model', prices: { 'house-model': { inputPerMillion: 1, outputPerMillion: 3 } } }).complete(request());
      expect(response.costUsd).toBeCloseTo(5, 12);
    });

    it('given a self-hosted model without a price, when completed, then costUsd is undefined but usage is reported', async () => {
      server.enqueue({ status: 200, content: GUEST_REPLY, model: 'llama3.1:8b', usage: { promptTokens: 321, completionTokens: 54 } });
      const response = await client({ model: 'llama3.1:8b' }).complete(request());
      expect(response.costUsd).toBeUndefined();
      expect(response).not.toHaveProperty('costUsd');
      expect(response.usage).toEqual({ promptTokens: 321, completionTokens: 54 });
    });
  });

  describe('retries', () => {
    it('given 429 with Retry-After: 1, when completed, then the retry waits at least a second and succeeds', async () => {
      server.enqueue({ status: 429, retryAfterSeconds: 1 }, { status: 200, content: GUEST_REPLY });

      const response = await client({ retryMaxDelayMs: 5000 }).complete(request());

      expect(response.attempts).toBe(2);
      const [first, second] = server.requests;
      // Timers may fire a millisecond early against Date.now(); anything near 1000 proves the header was honoured.
      expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(990);
    });

    it('given 429 with retry-after-ms, when completed, then that precise wait is honoured', async () => {
      server.enqueue({ status: 429, retryAfterMs: 250 }, { status: 200, content: GUEST_REPLY });
      await client({ retryMaxDelayMs: 5000 }).complete(request());
      const [first, second] = server.requests;
      expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(240);
    });

    it.each([500, 502, 504] as const)('given a %s with Retry-After: 1, when completed, then the retry waits at least a second and succeeds', async (status) => {
      // Honoured on a 503 only: a 502 with Retry-After: 3 was retried after 487 ms, though the docs say every 5xx's is.
      server.enqueue({ status, retryAfterSeconds: 1 }, { status: 200, content: GUEST_REPLY });

      const response = await client({ retryMaxDelayMs: 5000 }).complete(request());

      expect(response.attempts).toBe(2);
      const [first, second] = server.requests;
      expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(990);
    });

    it("given a 502 every time with Retry-After, when retries run out, then the error carries the provider's wait for the next attempt", async () => {
      server.enqueue({ status: 502, retryAfterSeconds: 300 }, { status: 502, retryAfterSeconds: 300 });
      const error = await rejectionOf(client({ maxRetries: 1 }).complete(request()), LlmError);
      expect(error).toMatchObject({ code: LlmErrorCode.ProviderError, retryable: true, retryAfterMs: 300_000 });
    });

    it('given a Retry-After beyond retryMaxDelayMs, when completed, then the wait is capped', async () => {
      server.enqueue({ status: 503, retryAfterSeconds: 30 }, { status: 200, content: GUEST_REPLY });
      await client({ retryMaxDelayMs: 150 }).complete(request());
      const [first, second] = server.requests;
      expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(140);
      expect(second.receivedAt - first.receivedAt).toBeLessThan(2000);
    });

    it('given a 500 then a 200, when completed, then it is retried and succeeds', async () => {
      server.enqueue({ status: 500 }, { status: 200, content: GUEST_REPLY });
      const response = await client().complete(request());
      expect(response.attempts).toBe(2);
      expect(server.requests).toHaveLength(2);
    });

    it('given a 408 then a 200, when completed, then it is retried and succeeds; a 408 every time is retryable', async () => {
      // A 408 was "rejected the request", not retryable: the mission was dead-lettered on its first attempt.
      server.enqueue({ status: 408, message: 'Request timed out' }, { status: 200, content: GUEST_REPLY });
      expect((await client().complete(request())).attempts).toBe(2);
      server.enqueue({ status: 408, message: 'Request timed out' }, { status: 408, message: 'Request timed out' });
      const error = await rejectionOf(client({ maxRetries: 1 }).complete(request()), LlmError);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/failed after 2 attempts \(HTTP 408\)$/);
    });

    it('given a 500 every time, when retries run out, then it is a retryable ProviderError after 1 + maxRetries requests', async () => {
      server.enqueue({ status: 500 }, { status: 502 }, { status: 500 });
      const error = await rejectionOf(client({ maxRetries: 2 }).complete(request()), LlmError);
      expect(error.code).toBe(LlmErrorCode.ProviderError);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/after 3 attempts/);
      expect(server.requests).toHaveLength(3);
    });

    it("given a 429 every time with Retry-After, when retries run out, then the error carries the provider's wait for the next attempt", async () => {
      server.enqueue({ status: 429, retryAfterSeconds: 300 }, { status: 429, retryAfterSeconds: 300 });
      const error = await rejectionOf(client({ maxRetries: 1 }).complete(request()), LlmError);
      expect(error).toMatchObject({ code: LlmErrorCode.RateLimited, retryAfterMs: 300_000 });
    });

    it('given a 429 every time, when retries run out, then it is RateLimited', async () => {
      server.enqueue({ status: 429 }, { status: 429 }, { status: 429 });
      const error = await rejectionOf(client({ maxRetries: 2 }).complete(request()), LlmError);
      expect(error.code).toBe(LlmErrorCode.RateLimited);
      expect(error.retryable).toBe(true);
      expect(server.requests).toHaveLength(3);
    });

    it.each([400, 401, 403, 404, 422] as const)('given a %s, when completed, then it is not retried and not retryable', async (status) => {
      server.enqueue({ status, message: `Invalid schema for response_format (${status})` }, { status: 200, content: GUEST_REPLY });
      const error = await rejectionOf(client().complete(request()), LlmError);
      expect(error.code).toBe(LlmErrorCode.ProviderError);
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(new RegExp(`rejected the request \\(HTTP ${status}\\)$`));
      expect(server.requests).toHaveLength(1);
    });

    it.each([
      ['a 400 quoting the prompt', { status: 400, message: "Invalid content: 'Could I check out at 14:00, please?'" }],
      ['a 500 quoting the prompt', { status: 500, message: "Upstream failed on 'Could I check out at 14:00, please?'" }],
      ['a 429 quoting the prompt', { status: 429, message: "Rate limited while reading 'Could I check out at 14:00, please?'" }],
      ['a refusal quoting the guest', { refusal: 'I cannot help with "Could I check out at 14:00, please?"' }],
    ] as const)("given %s, when it fails, then the error holds none of the provider's or model's text", async (_, reply) => {
      server.enqueue(reply);
      const error = await rejectionOf(client({ maxRetries: 0 }).complete(request()), LlmError);
      expect(error.message).not.toContain('check out');
      expect(error.message).toMatch(/rejected the request \(HTTP 400\)|failed \(HTTP 500\)|rate-limiting \(HTTP 429\)|the model refused to answer/);
    });

    it('given a redirect from LLM_BASE_URL, when completed, then it is not followed: a ProviderError naming the host it pointed to, and nothing reaches there', async () => {
      const target = new URL(baseUrl);
      for (const status of [301, 307, 308]) {
        let asked = 0;
        const redirecting = createHttpServer((_request, response) => {
          asked += 1;
          response.writeHead(status, { location: `${baseUrl}/chat/completions?token=t0k3n` }).end();
        });
        await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
        try {
          server.enqueue({ status: 200, content: GUEST_REPLY });
          const { port } = redirecting.address() as AddressInfo;
          const error = await rejectionOf(client({ baseUrl: `http://127.0.0.1:${port}/v1`, maxRetries: 3 }).complete(request()), LlmError);
          // Asked once: another attempt would be redirected the same way.
          expect(asked).toBe(1);
          // A 307 or 308 resent the prompt, the guest's message in it, to the address it named.
          expect(error.code).toBe(LlmErrorCode.ProviderError);
          expect(error.retryable).toBe(false);
          expect(error.message).toBe(
            `127.0.0.1:${port} answered HTTP ${status}, a redirect to ${target.host}, which is not followed (it would send the prompt there): set LLM_BASE_URL to where the provider answers`,
          );
          expect(server.requests).toHaveLength(0);
        } finally {
          server.reset();
          await new Promise((resolve) => redirecting.close(resolve));
        }
      }
    });

    it('given nothing listens on the port, when completed, then connection errors are retried and end as a retryable ProviderError', async () => {
      const port = await closedPort();
      const error = await rejectionOf(client({ baseUrl: `http://127.0.0.1:${port}/v1`, maxRetries: 1 }).complete(request()), LlmError);
      expect(error.code).toBe(LlmErrorCode.ProviderError);
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/cannot reach 127\.0\.0\.1:\d+ after 2 attempts/);
    });
  });

  describe('replies that break off or are no chat completion', () => {
    // A provider (or a proxy before it) that sends its 200's status and headers, then fails the body.
    const broken = new Map<string, (res: ServerResponse) => void>([
      [
        'reset mid-body',
        (res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
          res.write('{"id":"chatcmpl-1","object":"chat.completion","choices":[');
          setTimeout(() => res.socket?.destroy(), 20);
        },
      ],
      [
        'a whole body that is truncated JSON',
        (res) => {
          const text = '{"id":"chatcmpl-1","object":"chat.completion","choices":[';
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
          res.end(text);
        },
      ],
    ]);
    let raw: Server;
    let rawUrl: string;
    let answer: (res: ServerResponse) => void = () => undefined;
    let answered = 0;
    beforeAll(async () => {
      raw = createHttpServer((req, res) => {
        answered += 1;
        req.resume();
        req.on('end', () => answer(res));
      });
      await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
      rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/v1`;
    });
    afterAll(async () => {
      raw.closeAllConnections();
      await new Promise((resolve) => raw.close(resolve));
    });
    beforeEach(() => {
      answered = 0;
    });

    it.each([
      ['reset mid-body', /^127\.0\.0\.1:\d+ answered after 3 attempts, but its reply was cut off before its end \(TypeError\)$/],
      [
        'a whole body that is truncated JSON',
        /^127\.0\.0\.1:\d+ answered after 3 attempts, but its reply is not valid JSON \(\d+ characters, cut off or garbled\)$/,
      ],
    ])('given a 200 %s every time, then it is retried and ends as a retryable ProviderError saying the provider answered', async (kind, message) => {
      answer = broken.get(kind) ?? answer;
      const error = await rejectionOf(client({ baseUrl: rawUrl, maxRetries: 2 }).complete(request()), LlmError);
      expect(error).toMatchObject({ code: LlmErrorCode.ProviderError, retryable: true });
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/cannot reach|could not be read/);
      expect(answered).toBe(3);
    });

    describe('replies larger than MAX_REPLY_BYTES', () => {
      const TOTAL = 64 * 1024 * 1024;
      const tooLarge = new RegExp(`^127\\.0\\.0\\.1:\\d+ answered( after 2 attempts)?, but its reply is larger than ${MAX_REPLY_BYTES} bytes$`);
      /** What the server wrote of one reply, and a promise of its connection's end. */
      type Sent = { written: number; finished: boolean; closed: Promise<void> };
      let sent: Sent[] = [];
      const record = (res: ServerResponse): Sent => {
        const entry: Sent = { written: 0, finished: false, closed: new Promise((resolve) => res.once('close', () => resolve())) };
        sent.push(entry);
        return entry;
      };
      /** Writes a completion whose content is `TOTAL` bytes, as fast as the client takes them, stopping when it goes away. */
      const stream = (res: ServerResponse, entry: Sent): void => {
        const chunk = Buffer.alloc(64 * 1024, 'a');
        const pump = (): void => {
          while (entry.written < TOTAL && !res.destroyed) {
            entry.written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (res.destroyed) return;
          entry.finished = true;
          res.end('"}}]}');
        };
        res.write('{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"');
        pump();
      };
      beforeEach(() => {
        sent = [];
      });

      it('given a 200 whose body streams past it, then the read stops there, the connection is closed, and it is retried as a broken reply', async () => {
        // Read whole: a 100 MB reply grew the executor by 425 MB, and 10 missions with 450 MB replies to 6.3 GB.
        answer = (res) => {
          const entry = record(res);
          res.writeHead(200, { 'content-type': 'application/json' });
          stream(res, entry);
        };

        const error = await rejectionOf(client({ baseUrl: rawUrl, maxRetries: 1 }).complete(request()), LlmError);

        expect(error).toMatchObject({ code: LlmErrorCode.ProviderError, retryable: true });
        expect(error.message).toMatch(tooLarge);
        // Its usage, at the end of the body, is never read: what it cost is unknown and counted nowhere (as documented).
        expect(error.billed).toBeUndefined();
        expect(answered).toBe(2);
        await Promise.all(sent.map((entry) => entry.closed));
        // The client hung up: the server could not write the whole body, so it was never held in memory.
        expect(sent.map((entry) => entry.finished)).toEqual([false, false]);
        for (const entry of sent) expect(entry.written).toBeLessThan(TOTAL);
      });

      it.each([
        [500, 'Retry-After: 0', LlmErrorCode.ProviderError, /^127\.0\.0\.1:\d+ failed after 2 attempts \(HTTP 500\)$/, 2],
        [429, 'Retry-After: 0', LlmErrorCode.RateLimited, /^127\.0\.0\.1:\d+ kept rate-limiting after 2 attempts \(HTTP 429\)$/, 2],
        [400, 'no Retry-After', LlmErrorCode.ProviderError, /^127\.0\.0\.1:\d+ rejected the request \(HTTP 400\)$/, 1],
      ] as const)(
        'given a %s (%s) whose body streams 64 MB, then its body is not read: the connection is closed, and only its status and headers count',
        async (status, retryAfter, code, message, attempts) => {
          // The SDK read an error's body whole before the client saw it: a 200 MB 500 grew the process by 222 MiB, on every attempt.
          answer = (res) => {
            const entry = record(res);
            res.writeHead(status, { 'content-type': 'application/json', ...(retryAfter === 'no Retry-After' ? {} : { 'retry-after': '0' }) });
            stream(res, entry);
          };

          const error = await rejectionOf(client({ baseUrl: rawUrl, maxRetries: 1 }).complete(request()), LlmError);

          expect(error).toMatchObject({ code });
          expect(error.message).toMatch(message);
          expect(error.retryAfterMs).toBe(retryAfter === 'no Retry-After' ? undefined : 0);
          expect(answered).toBe(attempts);
          await Promise.all(sent.map((entry) => entry.closed));
          expect(sent.map((entry) => entry.finished)).toEqual(Array(attempts).fill(false));
          for (const entry of sent) expect(entry.written).toBeLessThan(TOTAL);
        },
      );

      it('given a 200 whose Content-Length is above it, then it is refused before its body is read', async () => {
        answer = (res) => {
          record(res);
          // Headers and a first piece only: a client that waited for the rest would hang until its timeout.
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MAX_REPLY_BYTES + 1) });
          res.write('{"id":"chatcmpl-1"');
        };

        const error = await rejectionOf(client({ baseUrl: rawUrl, maxRetries: 0 }).complete(request()), LlmError);

        expect(error).toMatchObject({ code: LlmErrorCode.ProviderError, retryable: true });
        expect(error.message).toMatch(tooLarge);
        await Promise.all(sent.map((entry) => entry.closed));
      });

      it('given a gzip reply, then a chat completion is taken, and one that unpacks past the limit is refused', async () => {
        const completion = JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'gpt-4o-mini',
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: GUEST_REPLY } }],
        });
        // 64 MB of one letter packs into some 64 kB: the limit holds for what is read, not for what crossed the wire.
        const bomb = gzipSync(Buffer.concat([Buffer.from('{"id":"'), Buffer.alloc(TOTAL, 'a'), Buffer.from('"}')]));
        let body = gzipSync(completion);
        answer = (res) => {
          record(res);
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(body.length) }).end(body);
        };

        expect((await client({ baseUrl: rawUrl, maxRetries: 0 }).complete(request())).output).toEqual(JSON.parse(GUEST_REPLY));
        body = bomb;
        const error = await rejectionOf(client({ baseUrl: rawUrl, maxRetries: 0 }).complete(request()), LlmError);
        expect(error.message).toMatch(tooLarge);
      });
    });

    it.each([
      ['text/html', 'text/html; charset=utf-8', 'with text/html'],
      ['text/plain', 'text/plain', 'with text/plain'],
      ['none', undefined, 'without a content type'],
      ['5,000 characters long', `text/${'x'.repeat(5000)}`, 'with an unreadable content type'],
    ])(
      'given a 200 of content type %s (a captive portal, a web UI at the base URL), then the error says what answered and points at LLM_BASE_URL',
      async (_, type, shown) => {
        // It was "the reply has no message content (finish_reason none)", which points at the model.
        answer = (res) =>
          res.writeHead(200, type === undefined ? {} : { 'content-type': type }).end('<html><body>Please log in to the hotel Wi-Fi</body></html>');
        const error = await rejectionOf(client({ baseUrl: rawUrl, maxRetries: 2 }).complete(request()), LlmError);
        expect(error).toMatchObject({ code: LlmErrorCode.ProviderError, retryable: true });
        expect(error.message).toMatch(
          new RegExp(
            `^127\\.0\\.0\\.1:\\d+ answered ${shown}, not a chat completion: check that LLM_BASE_URL points at an OpenAI-compatible API \\(e\\.g\\. https://api\\.openai\\.com/v1\\)$`,
          ),
        );
        // Asked once: another attempt at once would get the same page.
        expect(answered).toBe(1);
      },
    );

    it.each([
      ['text/plain', 'text/plain'],
      ['none', undefined],
      ['Application/JSON', 'Application/JSON'],
    ])("given a chat completion sent as content type %s (a proxy's), then it is taken, as the SDK took it", async (_, type) => {
      // Each was refused as "answered with …, not a chat completion", though the body was one.
      answer = (res) =>
        res.writeHead(200, type === undefined ? {} : { 'content-type': type }).end(
          JSON.stringify({
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 1,
            model: 'gpt-4o-mini',
            choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: GUEST_REPLY } }],
            usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
          }),
        );
      expect((await client({ baseUrl: rawUrl, maxRetries: 0 }).complete(request())).output).toEqual(JSON.parse(GUEST_REPLY));
    });
  });

  describe('timeouts and aborts', () => {
    it('given a reply slower than timeoutMs, when completed, then it is a retryable Timeout and the server saw the request', async () => {
      server.enqueue({ status: 200, content: GUEST_REPLY, delayMs: 2000 });
      const started = Date.now();
      const error = await rejectionOf(client({ maxRetries: 0 }).complete(request({ timeoutMs: 150 })), LlmError);
      expect(error.code).toBe(LlmErrorCode.Timeout);
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('150 ms');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(server.requests).toHaveLength(1);
    });

    it('given every attempt times out, when completed, then each was retried before the Timeout', async () => {
      server.enqueue({ status: 200, content: GUEST_REPLY, delayMs: 1000 }, { status: 200, content: GUEST_REPLY, delayMs: 1000 });
      const error = await rejectionOf(client({ maxRetries: 1 }).complete(request({ timeoutMs: 100 })), LlmError);
      expect(error.code).toBe(LlmErrorCode.Timeout);
      expect(server.requests).toHaveLength(2);
    });

    it('given a slow first reply and a fast second, when completed, then the timeout is retried and succeeds', async () => {
      server.enqueue({ status: 200, content: GUEST_REPLY, delayMs: 1000 }, { status: 200, content: GUEST_REPLY });
      const response = await client({ maxRetries: 1 }).complete(request({ timeoutMs: 100 }));
      expect(response.attempts).toBe(2);
    });

    it('given an abort while the server is answering, when completed, then it stops at once with Aborted', async () => {
      server.enqueue({ status: 200, content: GUEST_REPLY, delayMs: 3000 });
      const controller = new AbortController();
      const started = Date.now();
      const pending = rejectionOf(client().complete(request({ signal: controller.signal })), LlmError);
      await untilRequests(server, 1);
      controller.abort();
      const error = await pending;
      expect(error.code).toBe(LlmErrorCode.Aborted);
      expect(error.retryable).toBe(false);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(server.requests).toHaveLength(1);
    });

    it('given an abort during a Retry-After wait, when completed, then it stops without waiting it out', async () => {
      server.enqueue({ status: 429, retryAfterSeconds: 10 }, { status: 200, content: GUEST_REPLY });
      const controller = new AbortController();
      const started = Date.now();
      const pending = rejectionOf(client({ retryMaxDelayMs: 20_000 }).complete(request({ signal: controller.signal })), LlmError);
      await untilRequests(server, 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      controller.abort();
      const error = await pending;
      expect(error.code).toBe(LlmErrorCode.Aborted);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(server.requests).toHaveLength(1);
    });

    it('given an already aborted signal, when completed, then no request is sent', async () => {
      const error = await rejectionOf(client().complete(request({ signal: AbortSignal.abort() })), LlmError);
      expect(error.code).toBe(LlmErrorCode.Aborted);
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('malformed output', () => {
    it('given a reply that is not JSON, when completed, then it is a retryable MalformedOutput and not retried by the client', async () => {
      server.enqueue({ malformed: true }, { status: 200, content: GUEST_REPLY });
      const error = await rejectionOf(client().complete(request()), LlmError);
      expect(error.code).toBe(LlmErrorCode.MalformedOutput);
      expect(error.retryable).toBe(true);
      expect(server.requests).toHaveLength(1);
    });

    it('given a 200 that is no chat completion, then it is a retryable LlmError, not a TypeError', async () => {
      server.enqueue({ body: { error: { message: 'model is loading' } } });
      const error = await rejectionOf(client().complete(request()), LlmError);
      // It used to be completion.choices[0] of undefined: a TypeError, outside the client's contract.
      expect(error).toBeInstanceOf(LlmError);
      expect(error).toMatchObject({ code: LlmErrorCode.MalformedOutput, retryable: true, message: 'the reply has no message content (finish_reason none)' });
    });

    it('given a 200 whose choice has no message, then it is a retryable MalformedOutput saying so, not a TypeError', async () => {
      server.enqueue({
        body: { id: 'chatcmpl-1', object: 'chat.completion', created: 0, model: 'gpt-4o-mini', choices: [{ index: 0, finish_reason: 'stop' }] },
      });
      const error = await rejectionOf(client().complete(request()), LlmError);
      expect(error).toMatchObject({ code: LlmErrorCode.MalformedOutput, retryable: true, message: 'the reply has no message content (finish_reason stop)' });
    });

    it('given a 200 without content whose finish_reason is no finish reason, then the error does not repeat it', async () => {
      // Repeated as given: a 2 MB finish_reason, or one with control characters, went into MissionFailed.
      const choice = (finishReason: unknown) => ({ index: 0, message: { role: 'assistant', content: null }, finish_reason: finishReason });
      for (const finishReason of ['x'.repeat(2_000_000), 'stop\u001b[2J', 42]) {
        server.enqueue({ body: { id: 'chatcmpl-1', object: 'chat.completion', created: 0, model: 'gpt-4o-mini', choices: [choice(finishReason)] } });
        const error = await rejectionOf(client().complete(request()), LlmError);
        expect(error.message).toBe('the reply has no message content (finish_reason unreadable)');
      }
    });

    it('given usage counts that are no token counts, then the reply is taken with 0 tokens', async () => {
      server.enqueue({
        body: {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 0,
          model: 42,
          choices: [{ index: 0, message: { role: 'assistant', content: GUEST_REPLY }, finish_reason: 'stop' }],
          usage: { prompt_tokens: '12', completion_tokens: -3 },
        },
      });
      // The metrics threw on them after the good reply: every attempt failed, and the mission was dead-lettered.
      const response = await client().complete(request());
      expect(response).toMatchObject({ output: JSON.parse(GUEST_REPLY), usage: { promptTokens: 0, completionTokens: 0 }, model: 'gpt-4o-mini' });
    });

    it('given usage counts above 10,000,000 tokens, then they read 0 and the cost is unknown; 10,000,000 is still taken', async () => {
      // Taken: 9007199254740991 prompt tokens were priced at 13 billion USD, and the daily report's sums passed MAX_SAFE_INTEGER.
      server.enqueue({ status: 200, content: GUEST_REPLY, usage: { promptTokens: Number.MAX_SAFE_INTEGER, completionTokens: 10_000_001 } });
      server.enqueue({ status: 200, content: GUEST_REPLY, usage: { promptTokens: 10_000_000, completionTokens: 1 } });

      const absurd = await client().complete(request());
      const largest = await client().complete(request());

      expect(absurd).toMatchObject({ usage: { promptTokens: 0, completionTokens: 0 } });
      // It cost 0 USD: the daily report summed the reply as free, when what it cost is not known.
      expect(absurd.costUsd).toBeUndefined();
      expect(largest.usage).toEqual({ promptTokens: 10_000_000, completionTokens: 1 });
      expect(largest.costUsd).toBeGreaterThan(0);
    });

    it('given usage that is null, empty or only a total, then the reply is taken with 0 tokens and no cost', async () => {
      // `"usage": null` was a TypeError on a good reply (every attempt failed); `{}` was priced at 0 USD.
      for (const usage of [null, {}, { total_tokens: 12 }]) {
        server.enqueue({
          body: {
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 0,
            model: 'gpt-4o-mini',
            choices: [{ index: 0, message: { role: 'assistant', content: GUEST_REPLY }, finish_reason: 'stop' }],
            usage,
          },
        });
        const response = await client().complete(request());
        expect({ usage, taken: response.usage, costUsd: response.costUsd }).toEqual({
          usage,
          taken: { promptTokens: 0, completionTokens: 0 },
          costUsd: undefined,
        });
      }
    });

    it('given JSON that misses the schema, when completed, then it is MalformedOutput naming the problem', async () => {
      server.enqueue({ status: 200, content: JSON.stringify({ language: 'pt', reply: 'Bom dia', actions: [] }) });
      const error = await rejectionOf(client().complete(request()), LlmError);
      expect(error.code).toBe(LlmErrorCode.MalformedOutput);
      expect(error.message).toMatch(/language must be one of de, en, fr, it, es, nl/);
    });
  });

  describe('API key hygiene', () => {
    it('given successes and failures, when the client runs, then the key is never logged, inspected or put into an error', async () => {
      const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => jest.spyOn(console, method).mockImplementation(() => undefined));
      try {
        const llm = client({ maxRetries: 1 });
        server.enqueue({ status: 500 }, { status: 200, content: GUEST_REPLY }, { status: 401, message: 'Incorrect API key provided.' });
        await llm.complete(request());
        const error = await rejectionOf(llm.complete(request()), LlmError);

        expect(error.message).not.toContain(API_KEY);
        expect(inspect(llm, { depth: 10, showHidden: true })).not.toContain(API_KEY);
        expect(JSON.stringify(llm)).not.toContain(API_KEY);
        const logged = spies.flatMap((spy) => spy.mock.calls.map((call) => inspect(call, { depth: 10 })));
        expect(logged.filter((line) => line.includes(API_KEY))).toEqual([]);
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
    });
  });

  describe('the fake server', () => {
    it('given an unscripted request, when answered, then the fallback is a 500 (its text stays out of the error, as every provider text does)', async () => {
      const error = await rejectionOf(client({ maxRetries: 0 }).complete(request()), LlmError);
      expect(error.message).toMatch(/failed \(HTTP 500\)$/);
      expect(server.requests).toHaveLength(1);
      expect(server.pending).toBe(0);
    });
  });
});

describe('retry policy', () => {
  const policy = { retryBaseDelayMs: 100, retryMaxDelayMs: 1000 };

  it('given growing retry numbers, when the top of the jitter range is drawn, then the delay doubles up to the cap', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelayMs(retry, policy, undefined, top))).toEqual([99, 199, 399, 799, 999]);
  });

  it('given full jitter, when the bottom of the range is drawn, then the delay is zero', () => {
    expect(backoffDelayMs(3, policy, undefined, () => 0)).toBe(0);
  });

  it('given a Retry-After, when the delay is computed, then it is a floor capped by retryMaxDelayMs', () => {
    expect(backoffDelayMs(1, policy, 500, () => 0)).toBe(500);
    expect(backoffDelayMs(1, policy, 60_000, () => 0)).toBe(1000);
  });

  it('given Retry-After headers, when parsed, then seconds, HTTP dates and retry-after-ms are understood', () => {
    const now = Date.parse('2026-11-26T08:00:00Z');
    expect(parseRetryAfterMs(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': 'Thu, 26 Nov 2026 08:00:03 GMT' }), now)).toBe(3000);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': 'Thu, 26 Nov 2026 07:00:00 GMT' }), now)).toBe(0);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': '9', 'retry-after-ms': '120' }), now)).toBe(120);
    expect(parseRetryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfterMs(new Headers(), now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });
});

describe('price table', () => {
  const usage = { promptTokens: 1_000_000, completionTokens: 1_000_000 };

  it('given exact, dated and unknown model names, when priced, then exact beats prefix, longest prefix wins, unknown is undefined', () => {
    expect(costOf(DEFAULT_PRICE_TABLE, 'gpt-4o', usage)).toBeCloseTo(12.5, 10);
    expect(costOf(DEFAULT_PRICE_TABLE, 'gpt-4o-mini-2024-07-18', usage)).toBeCloseTo(0.75, 10);
    expect(costOf(DEFAULT_PRICE_TABLE, 'gpt-4o-2024-08-06', usage)).toBeCloseTo(12.5, 10);
    expect(costOf(DEFAULT_PRICE_TABLE, 'gpt-4.1-mini-2025-04-14', usage)).toBeCloseTo(2, 10);
    expect(costOf(DEFAULT_PRICE_TABLE, 'qwen2.5:7b', usage)).toBeUndefined();
    expect(costOf({}, 'gpt-4o', usage)).toBeUndefined();
  });

  it('given valid JSON, when parsed, then the table is returned as given', () => {
    const json = '{"gpt-4o-mini":{"inputPerMillion":0.15,"outputPerMillion":0.6},"local":{"inputPerMillion":0,"outputPerMillion":0}}';
    expect(parsePriceTable(json)).toEqual({
      'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
      local: { inputPerMillion: 0, outputPerMillion: 0 },
    });
    expect(parsePriceTable('{}')).toEqual({});
  });

  it.each([
    ['not JSON', '{gpt-4o: 1}', /not valid JSON/],
    ['an array', '[]', /must be a JSON object/],
    ['null', 'null', /must be a JSON object/],
    ['a number entry', '{"gpt-4o": 2.5}', /"gpt-4o" must be an object/],
    ['a missing field', '{"gpt-4o":{"inputPerMillion":2.5}}', /"gpt-4o"\.outputPerMillion must be a non-negative number, got nothing/],
    ['a string price', '{"gpt-4o":{"inputPerMillion":"2.5","outputPerMillion":10}}', /"gpt-4o"\.inputPerMillion must be a non-negative number, got "2.5"/],
    ['a negative price', '{"gpt-4o":{"inputPerMillion":-1,"outputPerMillion":10}}', /inputPerMillion must be a non-negative number, got -1/],
    ['a misspelt field', '{"gpt-4o":{"inputPerMillion":2.5,"outputPerMilion":10}}', /unknown field\(s\): outputPerMilion/],
    ['an empty model name', '{"":{"inputPerMillion":1,"outputPerMillion":1}}', /empty model name/],
  ])('given %s, when parsed, then a clear error is thrown', (_, json, message) => {
    expect(() => parsePriceTable(json)).toThrow(message);
  });
});

describe('createLlmClient', () => {
  const mock = { latencyMs: 0, failureRate: 0, malformedRate: 0 };

  it('given provider mock, when created, then it is the MockLlmClient', () => {
    expect(createLlmClient({ provider: 'mock', mock })).toBeInstanceOf(MockLlmClient);
  });

  it('given provider openai with settings, when created, then it is an OpenAiLlmClient for that model', () => {
    const llm = createLlmClient({ provider: 'openai', mock, openai: { baseUrl: 'http://127.0.0.1:11434/v1', apiKey: '', model: 'llama3.1:8b' } });
    expect(llm).toBeInstanceOf(OpenAiLlmClient);
    expect(llm.provider).toBe('openai');
  });

  it.each([
    ['no openai settings', undefined, /needs baseUrl and model/],
    ['no baseUrl', { apiKey: 'k', model: 'gpt-4o-mini' }, /needs baseUrl;/],
    ['a blank model', { baseUrl: 'https://api.openai.com/v1', apiKey: 'k', model: '  ' }, /needs model;/],
  ])('given provider openai with %s, when created, then it throws naming what is missing', (_, openai, message) => {
    expect(() => createLlmClient({ provider: 'openai', mock, openai })).toThrow(message);
  });

  it('given a baseUrl that is not a URL, when created, then it throws without echoing the value', () => {
    expect(() => createLlmClient({ provider: 'openai', mock, openai: { baseUrl: 'localhost:8080/v1', model: 'm' } })).toThrow(/not an absolute http\(s\) URL/);
  });
});
