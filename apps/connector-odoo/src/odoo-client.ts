import { fetchFailureCause, redirectTarget } from '@app/mission';
import { deadlineSignal } from '@app/runtime';

/** What Odoo's JSON-RPC answered with an error: `data.name` is the Python exception, e.g. `odoo.exceptions.AccessError`. */
export class OdooRpcError extends Error {
  constructor(
    message: string,
    readonly exception: string,
  ) {
    super(message);
    this.name = 'OdooRpcError';
  }
}

/**
 * Odoo could not be reached, timed out, or answered with something that is not JSON-RPC: worth
 * trying again later. `outcomeUnknown`: the call was sent and nothing says it failed (no answer in
 * time, the connection lost, a proxy's 502 or 504, any 5xx to a call that writes), so Odoo may
 * have made it all the same.
 * `retryAfterMs`: how long a 429's (or 503's) Retry-After asks to wait before the next call.
 * `underLoad`: no answer in time, a proxy's 504 or a 429: what a heavy call may meet while a light
 * one (a login check) gets through, unlike a refused connection or Odoo's own 5xx.
 */
export class OdooUnavailableError extends Error {
  readonly outcomeUnknown: boolean;
  readonly retryAfterMs: number | undefined;
  readonly underLoad: boolean;

  constructor(
    message: string,
    { outcomeUnknown = false, retryAfterMs, underLoad = false }: { outcomeUnknown?: boolean; retryAfterMs?: number; underLoad?: boolean } = {},
  ) {
    super(message);
    this.name = 'OdooUnavailableError';
    this.outcomeUnknown = outcomeUnknown;
    this.retryAfterMs = retryAfterMs;
    this.underLoad = underLoad;
  }
}

/** The longest Retry-After taken: a foreign server's "come back next year" must not stop the connector for good. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** How long an OdooUnavailableError's Retry-After asks to wait (ms), or 0. */
export function retryAfterOf(error: unknown): number {
  return error instanceof OdooUnavailableError ? (error.retryAfterMs ?? 0) : 0;
}

/** Whether Odoo may have made a call that failed: an OdooRpcError is Odoo's own answer, its transaction rolled back. */
export function outcomeUnknown(error: unknown): boolean {
  return error instanceof OdooUnavailableError && error.outcomeUnknown;
}

/** fetch's causes that mean the request never left: no connection was made. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** A proxy's answers that may come after it passed the call on: Odoo may be making it still. */
const PASSED_ON_STATUSES = new Set([502, 504]);

/**
 * The execute_kw methods that only read. Any other may write (message_post, write), and any 5xx
 * answering it leaves its outcome unknown: proxies answer one after passing the call on, not
 * only 502 and 504 (Cloudflare's 524 while Odoo still runs it, its 520 and 522, some proxies' 500
 * or 503), and a slow post behind Cloudflare was posted twice.
 */
const READ_METHODS = new Set(['search_read', 'search_count', 'search', 'read', 'fields_get']);

export interface OdooConnection {
  /** Base URL, e.g. https://hotel.odoo.com (the client posts to `<url>/jsonrpc`). */
  url: string;
  db: string;
  login: string;
  /** An API key of the login's user (Preferences → Account Security), used as the password. */
  apiKey: string;
  timeoutMs: number;
}

interface JsonRpcReply {
  result?: unknown;
  /** Odoo's is an object; a proxy or another server may send a bare string (`"Session expired"`). */
  error?: unknown;
}

/**
 * Odoo's documented external API over JSON-RPC: `POST <url>/jsonrpc` with
 * `{jsonrpc: "2.0", method: "call", params: {service, method, args}}`: `common.authenticate(db,
 * login, key, {})` for the uid, then `object.execute_kw(db, uid, key, model, method, args, kwargs)`.
 * The uid is cached and asked for again after an error.
 */
export class OdooClient {
  private uid: number | undefined;
  private requestId = 0;
  private majorVersion: Promise<number> | undefined;
  private partnerId: Promise<number> | undefined;
  /** Aborted by abortCalls: the connector is stopping. */
  private readonly stopped = new AbortController();
  /**
   * Until when (ms, this host's clock) a Retry-After asked to wait: no call is sent before. Kept by
   * the client, which the poll, the write-back and the refusal notes share: each honoured only its
   * own, and the others called a rate-limited Odoo at once (a write-back run, up to ten times).
   */
  private notBefore = 0;
  /** `<url>/jsonrpc`, below a path the URL has (an Odoo behind a proxy at `/odoo`); `new URL('/jsonrpc', url)` dropped it. */
  private readonly endpoint: URL;

  constructor(private readonly connection: OdooConnection) {
    this.endpoint = new URL('jsonrpc', connection.url.endsWith('/') ? connection.url : `${connection.url}/`);
  }

  /**
   * Ends the calls in flight and fails any made after (an OdooUnavailableError): the connector is
   * stopping. A hanging Odoo held its shutdown for ODOO_TIMEOUT_MS per call still to make, minutes
   * past compose's grace period. A call ended so was sent: its outcome is unknown.
   */
  abortCalls(): void {
    this.stopped.abort();
  }

  /** Whether abortCalls was called: a call failing now may have been ended by the stop, no failure of Odoo's. */
  get stopping(): boolean {
    return this.stopped.signal.aborted;
  }

  /** How long (ms) a Retry-After still asks to wait before the next call; 0 when none does. */
  get rateLimitedForMs(): number {
    return Math.max(0, this.notBefore - Date.now());
  }

  /** ODOO_TIMEOUT_MS: the longest the client waits for one call. */
  get timeoutMs(): number {
    return this.connection.timeoutMs;
  }

  /** Logs in (once) and returns the uid; wrong credentials are an OdooRpcError (`AccessDenied`). */
  async authenticate(): Promise<number> {
    if (this.uid !== undefined) return this.uid;
    const { db, login, apiKey } = this.connection;
    const uid = await this.call('common', 'authenticate', [db, login, apiKey, {}]);
    // Odoo answers a refused login with `false`; anything else that is no uid came from something
    // else at ODOO_URL, and sending the operator to check the key would hide the wrong URL.
    if (uid === false) throw new OdooRpcError(`Odoo refused the login ${login} on database ${db} (wrong login or API key)`, 'AccessDenied');
    if (typeof uid !== 'number' || !Number.isSafeInteger(uid) || uid <= 0)
      throw new OdooUnavailableError(`Odoo answered common.authenticate with ${kindOf(uid)}, neither a user id nor false (a refused login): check ODOO_URL`);
    this.uid = uid;
    return uid;
  }

  /**
   * The major version of this Odoo (`common.version`), read once. Odoo Online (SaaS) names its
   * builds `saas~NN.M` (server_version_info[0] `saas~18`): major NN, which decides what message_post
   * takes as surely as a numbered release's. 0 when it names none: older than any numbered release.
   */
  serverMajorVersion(): Promise<number> {
    this.majorVersion ??= this.call('common', 'version', []).then(
      (info) => majorVersionOf(info),
      (error: unknown) => {
        this.majorVersion = undefined;
        throw error;
      },
    );
    return this.majorVersion;
  }

  /**
   * Whether Odoo answers this client and takes its login and key now: one light call that needs them
   * (`res.users` `read` of the login's own user, its id only, which every internal user may make),
   * after a login if none is cached. Odoo checks the key on every execute_kw, so a key revoked since
   * the login fails it, where the cached uid alone would not; a refused login fails as authenticate does.
   */
  async checkLogin(): Promise<void> {
    const uid = await this.authenticate();
    await this.executeKw('res.users', 'read', [[uid]], { fields: ['id'] });
  }

  /** The partner of the login's user (`res.users` `partner_id`), read once: the author of every message the connector posts. */
  ownPartnerId(): Promise<number> {
    this.partnerId ??= this.authenticate()
      .then((uid) => this.executeKw<{ partner_id: [number, string] | false }[]>('res.users', 'read', [[uid]], { fields: ['partner_id'] }))
      .then(([user]) => {
        if (!user?.partner_id) throw new OdooRpcError(`Odoo gave no partner for the login ${this.connection.login}`, 'MissingPartner');
        return user.partner_id[0];
      })
      .catch((error: unknown) => {
        this.partnerId = undefined;
        throw error;
      });
    return this.partnerId;
  }

  async executeKw<T>(model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<T> {
    const uid = await this.authenticate();
    try {
      const result = await this.call('object', 'execute_kw', [this.connection.db, uid, this.connection.apiKey, model, method, args, kwargs], {
        writes: !READ_METHODS.has(method),
      });
      // Read by every caller as a list of records: anything else failed them with "(intermediate value) is not iterable".
      if (
        method === 'search_read' &&
        !(Array.isArray(result) && result.every((record) => typeof record === 'object' && record !== null && !Array.isArray(record)))
      )
        throw new OdooUnavailableError(
          `Odoo answered ${model}.search_read with ${Array.isArray(result) ? 'a JSON array of other things' : kindOf(result)}, not a list of records: check ODOO_URL`,
        );
      return result as T;
    } catch (error) {
      // A revoked key or a restored database: log in again next time.
      this.uid = undefined;
      throw error;
    }
  }

  /** `writes`: the call may change data in Odoo (see READ_METHODS). */
  private async call(service: string, method: string, args: unknown[], { writes = false }: { writes?: boolean } = {}): Promise<unknown> {
    if (this.stopped.signal.aborted) throw new OdooUnavailableError(`Odoo was not called (${service}.${method}): the connector is stopping`);
    // Failed at once rather than waited out: a stop must not wait for it.
    const waitMs = this.rateLimitedForMs;
    if (waitMs > 0)
      throw new OdooUnavailableError(`Odoo was not called (${service}.${method}): it asked to wait ${Math.ceil(waitMs / 1000)} s more (Retry-After)`, {
        retryAfterMs: waitMs,
      });
    // The whole call, its answer's body too, within ODOO_TIMEOUT_MS, or until the connector stops.
    const deadline = deadlineSignal(this.connection.timeoutMs, this.stopped.signal);
    let response: Response;
    let answered: string;
    let text: string;
    try {
      try {
        response = await fetch(this.endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: ++this.requestId }),
          signal: deadline.signal,
          // Never followed: a 307 or 308 resends the body, the API key in it, to wherever it points.
          redirect: 'manual',
        });
      } catch (error) {
        if (this.stopped.signal.aborted)
          throw new OdooUnavailableError(`Odoo's answer to ${service}.${method} was not awaited: the connector is stopping`, { outcomeUnknown: true });
        throw new OdooUnavailableError(`Odoo did not answer ${service}.${method}: ${fetchFailureCause(error)}`, {
          outcomeUnknown: !NOT_SENT.has(causeCode(error) ?? ''),
          underLoad: isTimeout(error),
        });
      }
      answered = `Odoo answered ${service}.${method} with HTTP ${response.status}`;
      try {
        text = await response.text();
      } catch (error) {
        // It was read as an empty body: "no JSON-RPC body: check ODOO_URL" for an Odoo, or a link, that was only slow.
        if (this.stopped.signal.aborted)
          throw new OdooUnavailableError(`${answered}, whose body was not awaited: the connector is stopping`, { outcomeUnknown: true });
        const cause = isTimeout(error) ? `did not arrive within ODOO_TIMEOUT_MS (${this.connection.timeoutMs} ms)` : `broke off: ${fetchFailureCause(error)}`;
        throw new OdooUnavailableError(`${answered}, but its body ${cause}`, { outcomeUnknown: true, underLoad: isTimeout(error) });
      }
    } finally {
      deadline.clear();
    }
    if (response.status >= 300 && response.status < 400) {
      throw new OdooUnavailableError(
        `${answered}, a redirect to ${redirectTarget(response.headers.get('location'))}, which the connector does not follow (it would send the API key there): set ODOO_URL to where Odoo answers`,
      );
    }
    // Odoo answers its errors too with 200 and a JSON-RPC error: any other status is a proxy or a server that is no Odoo.
    if (!response.ok) {
      const error = unavailableStatus(answered, response, writes);
      if (error.retryAfterMs !== undefined) this.notBefore = Math.max(this.notBefore, Date.now() + error.retryAfterMs);
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new OdooUnavailableError(`${answered} and no JSON-RPC body: check ODOO_URL`, { outcomeUnknown: true });
    }
    if (typeof parsed !== 'object' || parsed === null || !('result' in parsed || 'error' in parsed))
      throw new OdooUnavailableError(`${answered} and ${kindOf(parsed)}, not a JSON-RPC reply (no result or error): check ODOO_URL`, { outcomeUnknown: true });
    const reply = parsed as JsonRpcReply;
    if (reply.error) throw rpcErrorOf(`Odoo ${service}.${method} failed`, reply.error);
    return reply.result;
  }
}

/**
 * The error a status other than 200 or a redirect is: 429 is rate limiting (its Retry-After kept,
 * for the caller's backoff), a 5xx Odoo or a proxy before it failing (its outcome unknown for a
 * call that `writes`, and for a 502 or 504); any other a server that is no Odoo's JSON-RPC, most
 * likely a wrong ODOO_URL. All said "check ODOO_URL, and that Odoo is up".
 */
function unavailableStatus(answered: string, response: Response, writes: boolean): OdooUnavailableError {
  const retryAfterMs = retryAfterHeader(response.headers.get('retry-after'));
  const waits = retryAfterMs === undefined ? '' : `; it asks to wait ${Math.ceil(retryAfterMs / 1000)} s (Retry-After), and the next call waits at least that`;
  if (response.status === 429)
    return new OdooUnavailableError(`${answered}: Odoo, or a proxy before it, is rate limiting the connector${waits}`, { retryAfterMs, underLoad: true });
  if (response.status >= 500) {
    return new OdooUnavailableError(`${answered}: Odoo, or a proxy before it, failed${waits}`, {
      outcomeUnknown: writes || PASSED_ON_STATUSES.has(response.status),
      retryAfterMs,
      underLoad: response.status === 504,
    });
  }
  return new OdooUnavailableError(`${answered}, not Odoo's 200: check ODOO_URL`);
}

/**
 * A Retry-After header's wait (ms): delay-seconds or an HTTP date, at most MAX_RETRY_AFTER_MS;
 * undefined without a valid one. Delay-seconds of 309 digits or more are Infinity as a number:
 * capped like any long wait (it was taken for no wait at all).
 */
function retryAfterHeader(header: string | null): number | undefined {
  const value = header?.trim() ?? '';
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : /[a-z]/i.test(value) ? Date.parse(value) - Date.now() : NaN;
  return Number.isNaN(ms) ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** The longest part of a foreign error text kept in a message. */
const MAX_ERROR_TEXT = 200;

/**
 * A JSON-RPC `error` as an OdooRpcError: Odoo's object (`data.name` the Python exception, `data.message`
 * or `message` the text; never `data.debug`, its traceback), or whatever else a proxy sent, such as a
 * bare string (`"Session expired"`), which was shown as "error (unknown)". Every error of Odoo's is
 * described here, so each foreign text is made one bounded line here (boundedText): the message is
 * what `lastError`, `noteError`, readiness and the log lines show.
 */
function rpcErrorOf(failed: string, error: unknown): OdooRpcError {
  if (typeof error === 'string') return new OdooRpcError(`${failed}: ${boundedText(error)} (unknown)`, 'unknown');
  const { data, message } = (typeof error === 'object' && error !== null ? error : {}) as { data?: unknown; message?: unknown };
  const { name, message: dataMessage } = (typeof data === 'object' && data !== null ? data : {}) as { name?: unknown; message?: unknown };
  const exception = typeof name === 'string' ? name : 'unknown';
  const text = [dataMessage, message].find((candidate): candidate is string => typeof candidate === 'string');
  const said = text === undefined ? `an error that is ${kindOf(error)} with no message` : boundedText(text);
  return new OdooRpcError(`${failed}: ${said} (${boundedText(exception)})`, exception);
}

/**
 * Text from a foreign server for a message: one line, each run of whitespace or control characters
 * (Odoo's line breaks, a tab, a proxy's bell) one space, at most MAX_ERROR_TEXT characters. Odoo's
 * texts run over lines (a MissingError names its record on a second one, a constraint's message
 * lists its causes), which reached the listings as they were and split a log line.
 */
function boundedText(text: string): string {
  // eslint-disable-next-line no-control-regex
  const spaced = text.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return spaced.length > MAX_ERROR_TEXT ? `${spaced.slice(0, MAX_ERROR_TEXT)}…` : spaced;
}

/** Whether a fetch, or the read of its body, ended at its AbortSignal.timeout. Read by shape: the DOMException is Node's own. */
function isTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'name' in error && error.name === 'TimeoutError';
}

/** The `code` of a fetch failure's cause (`ECONNREFUSED`), read by shape as fetchFailureCause reads it. */
function causeCode(error: unknown): string | undefined {
  const cause: unknown = typeof error === 'object' && error !== null && 'cause' in error ? error.cause : undefined;
  return typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
}

/** What kind of JSON value came back, for an error that names it without repeating what a foreign server sent. */
function kindOf(value: unknown): string {
  if (value === null) return 'JSON null';
  if (Array.isArray(value)) return 'a JSON array';
  if (typeof value === 'object') return 'a JSON object';
  return `a JSON ${typeof value}`;
}

/**
 * Whether `error` says that `target` itself is gone from Odoo (deleted, or merged into another), so
 * no retry can post to it or write it: a MissingError, and a `search_count` of its id finds none
 * (archived records count as there: a post reaches them). A MissingError names whichever record
 * was missing, one a call reads (a partner since deleted) or names (a stage since deleted), and
 * a write-back or a refusal note to a record still there was given up. A count that fails says no.
 */
export async function isRecordGone(odoo: OdooClient, target: { model: string; recordId: number }, error: unknown): Promise<boolean> {
  if (!(error instanceof OdooRpcError && error.exception === 'odoo.exceptions.MissingError')) return false;
  const count = await odoo
    .executeKw<number>(target.model, 'search_count', [[['id', '=', target.recordId]]], { context: { active_test: false } })
    .catch(() => null);
  return count === 0;
}

/** `server_version_info[0]`, a number (`18`) or Odoo Online's `saas~18` / `saas~18.1`, else `server_version` (`saas~18.1+e`). */
export function majorVersionOf(info: unknown): number {
  const { server_version_info: parts, server_version: version } = (info ?? {}) as { server_version_info?: unknown; server_version?: unknown };
  const first: unknown = Array.isArray(parts) ? parts[0] : undefined;
  if (typeof first === 'number') return first;
  const named = [first, version].find((value): value is string => typeof value === 'string' && /^(saas~)?\d+/.test(value.trim()));
  return named ? Number(/\d+/.exec(named)?.[0]) : 0;
}
