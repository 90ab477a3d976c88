import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { isPlainObject } from '@app/mission';

/**
 * Every scripted reply may wait first; `delayMs` longer than the client's timeout simulates a hung
 * server. `until`: the reply waits (after any `delayMs`) for this promise, so a test answers at the
 * moment it chooses, e.g. after it changed the mission while the call was in flight.
 */
interface Delayed {
  delayMs?: number;
  until?: Promise<unknown>;
}

/**
 * What the server answers to one request.
 * - `{ status: 200, content }`: a chat completion whose assistant message is `content` (a JSON string, usually);
 *   `finishReason` overrides the one the server would give (`length`, `content_filter`: a reply the provider stopped).
 * - `{ status: 429, retryAfterSeconds?, retryAfterMs? }`: rate limited, with `Retry-After` / `retry-after-ms`.
 * - `{ status: 500 | 502 | 503 | 504 }`: a server error, optionally with Retry-After.
 * - `{ status: 4xx, message }`: an OpenAI-style `{ error: { message } }` body.
 * - `{ malformed: true }`: a 200 whose content is prose rather than JSON.
 * - `{ refusal }`: a 200 whose assistant message has no content, only the model's refusal text.
 * - `{ body }`: a 200 with this JSON body as it is, for servers that answer odd shapes.
 */
export type ScriptedReply = Delayed &
  (
    | { status: 200; content: string; model?: string; usage?: { promptTokens: number; completionTokens: number }; finishReason?: string }
    | { status: 429; retryAfterSeconds?: number; retryAfterMs?: number; message?: string }
    | { status: 500 | 502 | 503 | 504; retryAfterSeconds?: number; message?: string }
    | { status: 400 | 401 | 403 | 404 | 408 | 422; message: string }
    | { malformed: true }
    | { refusal: string }
    | { body: Record<string, unknown> }
  );

export interface ReceivedRequest {
  /** Date.now() when the request line arrived; compare these to measure the client's backoff. */
  receivedAt: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or `{}` when it was not a JSON object. */
  body: Record<string, unknown>;
}

/** Answers when the script is empty; gets the request so it can, e.g., fit the reply to response_format. */
export type FallbackReply = (request: ReceivedRequest) => ScriptedReply;

const MALFORMED_CONTENT = 'Sure! Here is the answer you asked for: {"reply": "Dear guest, we';

/**
 * A tiny OpenAI-compatible chat-completions server on 127.0.0.1 for tests: POST /v1/chat/completions
 * answers from a FIFO script of replies, and every request is recorded. Not a model: it says what it is told.
 *
 *   const server = new FakeChatCompletionsServer();
 *   const baseUrl = await server.start();            // http://127.0.0.1:<port>/v1
 *   server.enqueue({ status: 429, retryAfterSeconds: 1 }, { status: 200, content: '{"…":…}' });
 *   … new OpenAiLlmClient({ baseUrl, … }) …
 *   server.requests                                  // what the client sent
 *   await server.stop();
 */
export class FakeChatCompletionsServer {
  /** Used once the script is exhausted; by default a 500 saying so, which makes a missing enqueue obvious. */
  fallback: FallbackReply = () => ({ status: 500, message: 'fake server: no scripted reply left' });

  readonly #script: ScriptedReply[] = [];
  readonly #requests: ReceivedRequest[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #server: Server | undefined;
  #baseUrl: string | undefined;

  /** Listens on a free loopback port; resolves with the base URL including `/v1`. */
  async start(): Promise<string> {
    if (this.#baseUrl) return this.#baseUrl;
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.#server = server;
    this.#baseUrl = `http://127.0.0.1:${port}/v1`;
    return this.#baseUrl;
  }

  /** Drops open keep-alive connections too, so a test run never hangs on the client's socket pool. */
  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const server = this.#server;
    this.#server = undefined;
    this.#baseUrl = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }

  get baseUrl(): string {
    if (!this.#baseUrl) throw new Error('FakeChatCompletionsServer is not started');
    return this.#baseUrl;
  }

  enqueue(...replies: ScriptedReply[]): this {
    this.#script.push(...replies);
    return this;
  }

  /** Every request so far, oldest first (a copy). */
  get requests(): readonly ReceivedRequest[] {
    return [...this.#requests];
  }

  /** How many scripted replies are still waiting; a test can assert it reached 0. */
  get pending(): number {
    return this.#script.length;
  }

  /** Clears the script and the recorded requests, keeping the server (and its port) running. */
  reset(): void {
    this.#script.length = 0;
    this.#requests.length = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const text = await readBody(req);
    const path = (req.url ?? '/').split('?')[0];
    const received: ReceivedRequest = { receivedAt, method: req.method ?? 'GET', path, headers: req.headers, body: parseObject(text) };
    this.#requests.push(received);

    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendJson(res, 404, {}, errorBody(`fake server: no route for ${req.method} ${path}`, 'not_found'));
      return;
    }
    const reply = this.#script.shift() ?? this.fallback(received);
    if (reply.delayMs && reply.delayMs > 0) {
      const closed = await this.wait(reply.delayMs, res);
      if (closed) return;
    }
    if (reply.until && (await untilOrClosed(reply.until, res))) return;
    respond(res, reply, received);
  }

  /** Resolves true if the client hung up meanwhile, so nothing is written to a dead socket. */
  private wait(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const onClose = (): void => {
        clearTimeout(timer);
        this.#timers.delete(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        res.off('close', onClose);
        resolve(false);
      }, ms);
      this.#timers.add(timer);
      res.once('close', onClose);
    });
  }
}

/** Resolves true if the client hung up before `until` settled, so nothing is written to a dead socket. */
function untilOrClosed(until: Promise<unknown>, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = (): void => resolve(true);
    res.once('close', onClose);
    const settled = (): void => {
      res.off('close', onClose);
      resolve(false);
    };
    until.then(settled, settled);
  });
}

function respond(res: ServerResponse, reply: ScriptedReply, request: ReceivedRequest): void {
  if ('body' in reply) {
    sendJson(res, 200, {}, reply.body);
    return;
  }
  if ('malformed' in reply) {
    sendJson(res, 200, {}, completionBody(MALFORMED_CONTENT, requestedModel(request), undefined, request));
    return;
  }
  if ('refusal' in reply) {
    const body = completionBody('', requestedModel(request), undefined, request);
    sendJson(
      res,
      200,
      {},
      { ...body, choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: reply.refusal }, finish_reason: 'stop', logprobs: null }] },
    );
    return;
  }
  switch (reply.status) {
    case 200:
      sendJson(res, 200, {}, completionBody(reply.content, reply.model ?? requestedModel(request), reply.usage, request, reply.finishReason));
      return;
    case 429: {
      const headers: Record<string, string> = {};
      if (reply.retryAfterSeconds !== undefined) headers['retry-after'] = String(reply.retryAfterSeconds);
      if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
      sendJson(res, 429, headers, errorBody(reply.message ?? 'Rate limit reached, please try again later.', 'rate_limit_exceeded'));
      return;
    }
    case 500:
    case 502:
    case 503:
    case 504: {
      const headers: Record<string, string> = reply.retryAfterSeconds === undefined ? {} : { 'retry-after': String(reply.retryAfterSeconds) };
      sendJson(res, reply.status, headers, errorBody(reply.message ?? 'The server had an error while processing your request.', 'server_error'));
      return;
    }
    default:
      sendJson(res, reply.status, {}, errorBody(reply.message, 'invalid_request_error'));
  }
}

/** The reply's token limit the request names (max_completion_tokens, or the older max_tokens), if any. */
function outputLimitOf(request: ReceivedRequest): number | undefined {
  const limit = request.body.max_completion_tokens ?? request.body.max_tokens;
  return typeof limit === 'number' && Number.isInteger(limit) && limit > 0 ? limit : undefined;
}

function completionBody(
  content: string,
  model: string,
  usage: { promptTokens: number; completionTokens: number } | undefined,
  request: ReceivedRequest,
  finishReason?: string,
): Record<string, unknown> {
  // As a provider does: a reply longer than the request's token limit is cut there (finish_reason length).
  const limit = outputLimitOf(request);
  const cut = limit !== undefined && Math.ceil(content.length / 4) > limit;
  const text = cut ? content.slice(0, limit * 4) : content;
  // Without scripted usage, a chars/4 estimate keeps token counts plausible for end-to-end tests.
  const promptTokens = usage?.promptTokens ?? Math.ceil(JSON.stringify(request.body.messages ?? []).length / 4);
  const completionTokens = usage?.completionTokens ?? Math.ceil(text.length / 4);
  return {
    id: `chatcmpl-fake-${request.receivedAt.toString(36)}`,
    object: 'chat.completion',
    created: Math.floor(request.receivedAt / 1000),
    model,
    choices: [
      { index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: finishReason ?? (cut ? 'length' : 'stop'), logprobs: null },
    ],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

function errorBody(message: string, type: string): Record<string, unknown> {
  return { error: { message, type, param: null, code: null } };
}

function requestedModel(request: ReceivedRequest): string {
  return typeof request.body.model === 'string' ? request.body.model : 'fake-model';
}

function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // A client that aborts mid-upload still gets its (partial) request recorded rather than a hung handler.
    req.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return isPlainObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}
