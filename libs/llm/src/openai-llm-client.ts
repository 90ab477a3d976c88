import { setTimeout as sleep } from 'node:timers/promises';
import type OpenAI from 'openai';
import type { APIConnectionError } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { MaxTokensParameter, PriceTable } from '@app/config';
import { isPlainObject, redirectTarget } from '@app/mission';
import { LlmClient, LlmMessage, LlmRequest, LlmResponse } from './llm-client';
import { LlmBilledUsage, LlmError, LlmErrorCode } from './llm-error';
import { parseReplyFor } from './parse-output';
import { costOf, DEFAULT_PRICE_TABLE } from './price-table';

export interface OpenAiLlmClientOptions {
  /** Including the API version path, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; local servers usually accept any value. */
  apiKey: string;
  model: string;
  /** Retries after the first HTTP attempt. Default 3. */
  maxRetries?: number;
  /** Backoff cap of the first retry, doubling per retry. Default 500. */
  retryBaseDelayMs?: number;
  /** Upper bound for any wait, Retry-After included. Default 20 000. */
  retryMaxDelayMs?: number;
  /** Defaults to DEFAULT_PRICE_TABLE. */
  prices?: PriceTable;
  /** Jitter source; injectable so a test can pin the backoff. Default Math.random. */
  random?: () => number;
  /** The most tokens a reply may have (LLM_MAX_OUTPUT_TOKENS); 0 or absent: the request names no limit. */
  maxOutputTokens?: number;
  /** The request field that carries maxOutputTokens (LLM_MAX_TOKENS_PARAMETER). Default max_completion_tokens. */
  maxTokensParameter?: MaxTokensParameter;
}

export interface RetryPolicy {
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
}

const DEFAULT_MAX_RETRIES = 3;
const DEFAULT_RETRY_BASE_DELAY_MS = 500;
const DEFAULT_RETRY_MAX_DELAY_MS = 20_000;

/** Why one HTTP attempt failed, reduced to what the retry decision and the final LlmError need. */
type AttemptFailure =
  | { kind: 'aborted' }
  | { kind: 'timeout' }
  | { kind: 'connection'; message: string }
  // The provider answered (status and headers arrived), but its body broke off or is no JSON.
  | { kind: 'broken_reply'; why: string }
  // A 2xx that is no JSON (a captive portal's or a web UI's HTML page): not a chat-completions API.
  | { kind: 'not_a_completion'; contentType: string }
  // An HTTP failure keeps only its status: the provider's message may quote the prompt (the guest's
  // data), and what this client throws ends up in plain in MissionFailed and the logs.
  | { kind: 'rate_limited'; status: number; retryAfterMs?: number }
  | { kind: 'server'; status: number; retryAfterMs?: number }
  | { kind: 'rejected'; status: number }
  // Never followed: a 307 or 308 resends the request, the prompt with the guest's data, to wherever it points.
  | { kind: 'redirected'; status: number; to: string };

type AttemptOutcome = { ok: true; completion: ChatCompletion } | { ok: false; failure: AttemptFailure };

/**
 * LlmClient for any server speaking OpenAI chat completions (OpenAI, Azure's /openai/v1, vLLM, Ollama, LM Studio).
 * The SDK's own retries are off so that the policy (what is retried, how long to wait, which LlmError comes out)
 * lives here, where it is documented and tested. The API key sits only inside the SDK instance, which is held
 * in a #private field so that neither util.inspect nor JSON.stringify of this client can reveal it.
 */
export class OpenAiLlmClient implements LlmClient {
  readonly provider = 'openai';
  readonly model: string;

  readonly #sdk: OpenAI;
  readonly #host: string;
  readonly #maxRetries: number;
  readonly #policy: RetryPolicy;
  readonly #prices: Readonly<PriceTable>;
  readonly #random: () => number;
  readonly #outputLimit: Partial<Record<MaxTokensParameter, number>>;

  constructor(options: OpenAiLlmClientOptions) {
    if (!options.baseUrl?.trim()) throw new Error('OpenAiLlmClient needs a baseUrl');
    if (!options.model?.trim()) throw new Error('OpenAiLlmClient needs a model');
    this.model = options.model;
    this.#host = hostOf(options.baseUrl);
    this.#maxRetries = nonNegativeInteger(options.maxRetries ?? DEFAULT_MAX_RETRIES, 'maxRetries');
    this.#policy = {
      retryBaseDelayMs: nonNegativeInteger(options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS, 'retryBaseDelayMs'),
      retryMaxDelayMs: nonNegativeInteger(options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS, 'retryMaxDelayMs'),
    };
    this.#prices = options.prices ?? DEFAULT_PRICE_TABLE;
    this.#random = options.random ?? Math.random;
    const maxOutputTokens = nonNegativeInteger(options.maxOutputTokens ?? 0, 'maxOutputTokens');
    this.#outputLimit = maxOutputTokens > 0 ? { [options.maxTokensParameter ?? 'max_completion_tokens']: maxOutputTokens } : {};
    this.#sdk = new (openAiSdk().default)({
      baseURL: options.baseUrl,
      apiKey: options.apiKey,
      maxRetries: 0,
      // Every outcome reaches the caller as an LlmError; SDK logging (OPENAI_LOG=debug) would only duplicate it.
      logLevel: 'off',
      fetchOptions: { redirect: 'manual' },
      fetch: fetchLeavingErrorBodiesUnread,
    });
  }

  async complete(request: LlmRequest): Promise<LlmResponse> {
    const started = performance.now();
    const body = this.requestBody(request);
    const maxAttempts = this.#maxRetries + 1;

    for (let attempt = 1; ; attempt++) {
      if (request.signal?.aborted) throw abortedError();
      const outcome = await this.attempt(body, request);
      if (outcome.ok) return this.toResponse(request, outcome.completion, attempt, started);

      const { failure } = outcome;
      if (!isRetryable(failure) || attempt >= maxAttempts) throw this.finalError(failure, attempt, request.timeoutMs);
      const retryAfterMs = failure.kind === 'rate_limited' || failure.kind === 'server' ? failure.retryAfterMs : undefined;
      // A cancel never waits out a backoff: it rejects at once, as Aborted.
      await sleep(backoffDelayMs(attempt, this.#policy, retryAfterMs, this.#random), undefined, { signal: request.signal }).catch(() => {
        throw abortedError();
      });
    }
  }

  private requestBody(request: LlmRequest): ChatCompletionCreateParamsNonStreaming {
    return {
      model: this.model,
      messages: [{ role: 'system', content: request.systemPrompt }, ...request.messages.map(toChatMessage)],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: request.context.judge ? `${request.context.missionType}_verdict` : `${request.context.missionType}_output`,
          schema: strictJsonSchema(request.outputSchema),
          strict: true,
        },
      },
      // The provider stops the reply there (finish_reason length) and bills no more than that.
      ...this.#outputLimit,
    };
  }

  /**
   * Own timer on top of the SDK's `timeout`: the SDK's only covers the wait for response headers, this one
   * also covers reading the body, so a server that stalls mid-reply still ends as a Timeout.
   */
  private async attempt(body: ChatCompletionCreateParamsNonStreaming, request: LlmRequest): Promise<AttemptOutcome> {
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      request.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, request.timeoutMs)
        : undefined;
    const forwardAbort = (): void => controller.abort();
    request.signal?.addEventListener('abort', forwardAbort, { once: true });
    try {
      // The raw 2xx response (the SDK still turns any other status into its APIError), read here so
      // that a body that breaks off or is no JSON is told apart from a provider that cannot be reached.
      const response = await this.#sdk.chat.completions
        .create(body, {
          signal: controller.signal,
          ...(request.timeoutMs > 0 ? { timeout: request.timeoutMs } : {}),
          maxRetries: 0,
        })
        .asResponse();
      return { ok: true, completion: await readCompletion(response) };
    } catch (error) {
      return { ok: false, failure: classify(error, request.signal?.aborted === true, timedOut) };
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', forwardAbort);
    }
  }

  private toResponse(request: LlmRequest, completion: ChatCompletion, attempts: number, started: number): LlmResponse {
    // Counts that are no token counts (strings, negatives, absurdly large) read 0: the metrics would throw on
    // them after a good reply, and a huge one would poison the cost accounting.
    const usage = { promptTokens: tokenCount(completion.usage?.prompt_tokens), completionTokens: tokenCount(completion.usage?.completion_tokens) };
    const model = plausibleModelId(completion.model) ?? this.model;
    // Servers that omit usage, or give counts that are none, would otherwise be reported as costing nothing.
    const costUsd = countsKnown(completion.usage) ? (costOf(this.#prices, model, usage) ?? costOf(this.#prices, this.model, usage)) : undefined;
    // A 200 with usage was billed, whether or not its reply can be used: a rejected one carries it on.
    const billed: LlmBilledUsage | undefined = completion.usage ? { usage, model, ...(costUsd === undefined ? {} : { costUsd }) } : undefined;
    // A server may answer a 200 of another shape (an error object, text): no choice, not a TypeError.
    const choice = Array.isArray(completion.choices) ? completion.choices[0] : undefined;
    // A choice without a message (`{"index":0,"finish_reason":"stop"}`) is no content either, not a TypeError.
    const message = isPlainObject(choice) && isPlainObject(choice.message) ? (choice.message as Partial<ChatCompletion.Choice['message']>) : undefined;
    const content = message?.content;
    if (typeof content !== 'string') {
      // Never the refusal's text: it may quote the guest, and the error is stored in plain (MissionFailed).
      const why = message?.refusal
        ? 'the model refused to answer'
        : `the reply has no message content (finish_reason ${shownFinishReason(choice?.finish_reason)})`;
      throw new LlmError(LlmErrorCode.MalformedOutput, why, true, undefined, billed);
    }
    // Checked before the parse: a reply the provider stopped is not the whole answer, even when what came
    // happens to parse (it was taken then), and when it does not, this says why better than a JSON error.
    const stopped = STOPPED_REPLIES.get(String(choice?.finish_reason));
    if (stopped) throw new LlmError(LlmErrorCode.MalformedOutput, stopped, true, undefined, billed);
    let output: Record<string, unknown>;
    try {
      output = parseReplyFor(request, content);
    } catch (error) {
      if (!(error instanceof LlmError)) throw error;
      throw new LlmError(error.code, error.message, error.retryable, error.retryAfterMs, billed);
    }
    return {
      output,
      rawText: content,
      usage,
      model,
      latencyMs: Math.round(performance.now() - started),
      ...(costUsd === undefined ? {} : { costUsd }),
      attempts,
    };
  }

  private finalError(failure: AttemptFailure, attempts: number, timeoutMs: number): LlmError {
    const after = attempts > 1 ? ` after ${attempts} attempts` : '';
    switch (failure.kind) {
      case 'aborted':
        return abortedError();
      case 'timeout':
        return new LlmError(LlmErrorCode.Timeout, `${this.#host} did not answer within ${timeoutMs} ms${after}`, true);
      case 'rate_limited':
        return new LlmError(LlmErrorCode.RateLimited, `${this.#host} kept rate-limiting${after} (HTTP ${failure.status})`, true, failure.retryAfterMs);
      case 'server':
        return new LlmError(LlmErrorCode.ProviderError, `${this.#host} failed${after} (HTTP ${failure.status})`, true, failure.retryAfterMs);
      case 'connection':
        return new LlmError(LlmErrorCode.ProviderError, `cannot reach ${this.#host}${after}: ${failure.message}`, true);
      case 'broken_reply':
        return new LlmError(LlmErrorCode.ProviderError, `${this.#host} answered${after}, but its reply ${failure.why}`, true);
      case 'not_a_completion':
        // Retryable: a captive portal or a proxy's error page may be gone by the mission's next attempt.
        return new LlmError(
          LlmErrorCode.ProviderError,
          `${this.#host} answered${after} ${shownContentType(failure.contentType)}, not a chat completion: check that LLM_BASE_URL points at an OpenAI-compatible API (e.g. https://api.openai.com/v1)`,
          true,
        );
      case 'rejected':
        return new LlmError(LlmErrorCode.ProviderError, `${this.#host} rejected the request (HTTP ${failure.status})`, false);
      case 'redirected':
        return new LlmError(
          LlmErrorCode.ProviderError,
          `${this.#host} answered HTTP ${failure.status}, a redirect to ${failure.to}, which is not followed (it would send the prompt there): set LLM_BASE_URL to where the provider answers`,
          false,
        );
    }
  }
}

/** The finish reasons of a reply the provider stopped before its end, and what its attempt fails with. */
const STOPPED_REPLIES: ReadonlyMap<string, string> = new Map([
  ['length', 'the reply hit the token limit (finish_reason length)'],
  ['content_filter', "the provider's content filter stopped the reply (finish_reason content_filter)"],
]);

/**
 * OpenAI's strict mode accepts only a subset of JSON Schema and answers 400 to the rest; minLength/maxLength
 * are outside it, and maxItems is not in every model's. They are dropped from what is sent only:
 * parseLlmOutput still enforces them on the reply.
 */
export function strictJsonSchema(schema: Record<string, unknown>): Record<string, unknown> {
  return stripKeys(schema, new Set(['minLength', 'maxLength', 'maxItems']));
}

function stripKeys(value: Record<string, unknown>, keys: ReadonlySet<string>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (keys.has(key)) continue;
    result[key] = isPlainObject(child) ? stripKeys(child, keys) : child;
  }
  return result;
}

/**
 * Exponential backoff with full jitter (uniform in [0, base·2^(retry-1)], capped), so clients that failed
 * together do not retry together. A server-given Retry-After is a floor, still capped so one reply cannot
 * park a mission for an hour.
 */
export function backoffDelayMs(retry: number, policy: RetryPolicy, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.retryMaxDelayMs, policy.retryBaseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterMs === undefined) return jittered;
  return Math.min(policy.retryMaxDelayMs, Math.max(retryAfterMs, jittered));
}

/** `retry-after-ms` (OpenAI, Azure) is more precise than `Retry-After` (seconds or an HTTP date), so it wins. */
export function parseRetryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  const millis = headers?.get('retry-after-ms')?.trim();
  if (millis && /^\d+(\.\d+)?$/.test(millis)) return Math.ceil(Number(millis));
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The SDK, required by the first client made: a service on the mock LLM never loads it (about
 * 9 MB of a service's RSS, issue #12's 150 MB target).
 */
function openAiSdk(): typeof import('openai') {
  return require('openai') as typeof import('openai'); // eslint-disable-line @typescript-eslint/no-require-imports
}

/** A 2xx whose body could not be read whole, or is not the JSON its content type says. */
class BrokenReply extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = 'BrokenReply';
  }
}

/** A 2xx whose content type is not JSON, so no chat completion: what answered is some other server. */
class NotAChatCompletion extends Error {
  constructor(readonly contentType: string) {
    super(`a 2xx reply of content type ${contentType || 'none'}`);
    this.name = 'NotAChatCompletion';
  }
}

/**
 * The most bytes of a reply's body read (after fetch undid any gzip). The largest valid output, the
 * maintenance one's 150 items of 2,000 characters, is 300,000 characters; sent as JSON inside the
 * completion's JSON, a character takes at most 7 bytes (`\\uXXXX`), so about 2.1 MB: 4 MiB leaves room for
 * the envelope and a model's reasoning text. Unbounded, one 450 MB reply per call took the executor to
 * 6.3 GB across 10 missions; bounded, a call holds a few times this at most (chunks, joined, decoded).
 */
export const MAX_REPLY_BYTES = 4 * 1024 * 1024;

/**
 * The body of a 2xx as JSON, as the SDK would parse it, except that a failure says what broke: a body
 * of another content type (the SDK gave its text, which toResponse found no message in: "the reply has
 * no message content") says what it was. Only the error's name: a parser's message may quote the body,
 * i.e. the model's reply about the guest.
 */
async function readCompletion(response: Response): Promise<ChatCompletion> {
  const text = await readBoundedText(response);
  try {
    // Taken whatever its content type says (a proxy may send JSON as text/plain, or name none), as the SDK took it.
    return JSON.parse(text) as ChatCompletion;
  } catch {
    // Media types are case-insensitive: `Application/JSON` is JSON cut off, not another server's page.
    const mediaType = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
    if (!mediaType.includes('application/json') && !mediaType.endsWith('+json')) throw new NotAChatCompletion(mediaType);
    throw new BrokenReply(`is not valid JSON (${text.length === 0 ? 'an empty body' : `${text.length} characters, cut off or garbled`})`);
  }
}

/**
 * The body as text, refused once it passes MAX_REPLY_BYTES: by its Content-Length (a gzip body's only
 * grows when undone) before any of it is read, else as it streams in. Cancelling the body aborts the fetch, so the rest is never received and
 * the socket is let go. Chunks are kept as they come and decoded once, as response.text() does (BOM dropped).
 */
async function readBoundedText(response: Response): Promise<string> {
  const tooLarge = `is larger than ${MAX_REPLY_BYTES} bytes`;
  const body = response.body;
  if (!body) return '';
  if (Number(response.headers.get('content-length')) > MAX_REPLY_BYTES) {
    await body.cancel().catch(() => undefined);
    throw new BrokenReply(tooLarge);
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const chunk = await reader.read().catch((error: unknown) => {
      throw new BrokenReply(`was cut off before its end (${errorName(error)})`);
    });
    if (chunk.done) break;
    size += chunk.value.byteLength;
    if (size > MAX_REPLY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new BrokenReply(tooLarge);
    }
    chunks.push(chunk.value);
  }
  return new TextDecoder().decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
}

/**
 * fetch for the SDK, which reads the body of any reply that is not 2xx whole (for its APIError's message)
 * before this client sees it: a 500 or 429 of 200 MB grew the executor by 222 MB, on every attempt. That
 * body is cancelled unread instead, which closes its connection; classify keeps only the status and
 * headers (Retry-After, Location) anyway, as the provider's message may quote the prompt. The response
 * itself goes on, so its status is any the server sent; the SDK's read of the cancelled body fails, and
 * that failure's text, which it puts in the APIError's message, is never used either.
 */
async function fetchLeavingErrorBodiesUnread(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  if (!response.ok) await response.body?.cancel().catch(() => undefined);
  return response;
}

function classify(error: unknown, abortedByCaller: boolean, timedOut: boolean): AttemptFailure {
  // Checked before the error type: an abort surfaces as several different SDK and undici errors.
  if (abortedByCaller) return { kind: 'aborted' };
  const { APIConnectionError, APIConnectionTimeoutError, APIError } = openAiSdk();
  if (timedOut || error instanceof APIConnectionTimeoutError) return { kind: 'timeout' };
  if (error instanceof BrokenReply) return { kind: 'broken_reply', why: error.why };
  if (error instanceof NotAChatCompletion) return { kind: 'not_a_completion', contentType: error.contentType };
  if (error instanceof APIConnectionError) return { kind: 'connection', message: describeConnectionError(error) };
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    if (status === 429) return { kind: 'rate_limited', status, retryAfterMs: parseRetryAfterMs(error.headers) };
    // 408: the server (or a gateway before it) gave up waiting, a timeout like any other. Its Retry-After is
    // honoured whatever the status: a 502 or 504 from a gateway before an overloaded model sends one too.
    if (status >= 500 || status === 408) return { kind: 'server', status, retryAfterMs: parseRetryAfterMs(error.headers) };
    if (status >= 300 && status < 400) return { kind: 'redirected', status, to: redirectTarget(error.headers?.get('location')) };
    return { kind: 'rejected', status };
  }
  // Anything else (before the response came: a reply that broke off is a BrokenReply) is a transport hiccup worth another try.
  // Only the error's name: a parser's message may quote the body, i.e. the model's reply about the guest.
  return { kind: 'connection', message: `the response could not be read (${errorName(error)})` };
}

/** The error's name, also for errors of another realm (undici's, seen from a test's VM context), which fail instanceof Error. */
function errorName(error: unknown): string {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name ? name : typeof error;
}

function describeConnectionError(error: APIConnectionError): string {
  const cause = error.cause;
  const detail = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : '';
  return detail ? `${error.message} (${detail})` : error.message;
}

/**
 * A model id as providers write them: gpt-4o-mini-2024-07-18, llama3.1:8b, org/model@rev, hf.co/…/…:Q4_K_M.
 * The reply's `model` is priced by and stored (the mission's result, a billed failure, the LLM judge's
 * name), and whatever the server puts there was taken as given: a 2 MB name made the mission's hash 2 MB,
 * and control characters went out raw. One that is no such id reads as the configured model instead.
 */
const PLAUSIBLE_MODEL_ID = /^[A-Za-z0-9._:/@+-]{1,100}$/;

function plausibleModelId(value: unknown): string | undefined {
  return typeof value === 'string' && PLAUSIBLE_MODEL_ID.test(value) ? value : undefined;
}

/**
 * The most tokens one reply's usage may count: far above any model's context (a few million at most),
 * far below what poisons sums. 9007199254740991 prompt tokens were taken, priced at 13 billion USD in
 * the daily report, whose sums then passed Number.MAX_SAFE_INTEGER.
 */
const MAX_TOKEN_COUNT = 10_000_000;

/** A whole number from 0 to MAX_TOKEN_COUNT. */
function isTokenCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_TOKEN_COUNT;
}

/**
 * Whether a reply's usage tells what it cost: an object with at least one count, each count it has
 * a token count (a server may leave out completion tokens). `null`, `{}` or only `total_tokens`
 * tell nothing, and absurd counts read 0: priced, they made the reply free in the daily report.
 */
function countsKnown(usage: unknown): boolean {
  if (!isPlainObject(usage)) return false;
  const counts = [usage.prompt_tokens, usage.completion_tokens].filter((count) => count !== undefined);
  return counts.length > 0 && counts.every(isTokenCount);
}

/** A count the server gave, or 0 (as for no count) when it is none. */
function tokenCount(value: unknown): number {
  return isTokenCount(value) ? value : 0;
}

/** Within one call: another attempt at once would get the same page from a server that is no API, or the same refusal. */
function isRetryable(failure: AttemptFailure): boolean {
  return failure.kind !== 'aborted' && failure.kind !== 'rejected' && failure.kind !== 'redirected' && failure.kind !== 'not_a_completion';
}

/**
 * A reply's finish_reason, for an error that is stored (MissionFailed): the server's to write, so
 * named only when it looks like one (stop, length, tool_calls); a 2 MB one or control characters were stored as given.
 */
function shownFinishReason(value: unknown): string {
  if (value === undefined || value === null) return 'none';
  return typeof value === 'string' && /^[a-z_]{1,40}$/.test(value) ? value : 'unreadable';
}

/** A server's content type, for an error that is stored (MissionFailed): named when it looks like one, as any server may send anything. */
function shownContentType(mediaType: string): string {
  if (!mediaType) return 'without a content type';
  return /^[a-z0-9.+-]{1,40}\/[a-z0-9.+-]{1,80}$/i.test(mediaType) ? `with ${mediaType}` : 'with an unreadable content type';
}

function toChatMessage(message: LlmMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content };
    case 'assistant':
      return { role: 'assistant', content: message.content };
  }
}

function abortedError(): LlmError {
  return new LlmError(LlmErrorCode.Aborted, 'request was aborted', false);
}

/** Error messages name the host only: a base URL may carry credentials in its user-info part. */
function hostOf(baseUrl: string): string {
  let url: URL | undefined;
  try {
    url = new URL(baseUrl);
  } catch {
    url = undefined;
  }
  // "localhost:8080/v1" parses as a URL with scheme "localhost:", so the scheme is checked too.
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error('OpenAiLlmClient baseUrl is not an absolute http(s) URL (expected e.g. https://api.openai.com/v1)');
  }
  return url.host;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`OpenAiLlmClient ${name} must be a non-negative integer, got ${value}`);
  return value;
}
