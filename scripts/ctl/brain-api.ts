import { hideUrlCredentials, httpUrlParser } from '@app/config';
import { parseRetryAfterMs } from '@app/llm';
import { fetchFailureCause } from '@app/mission';
import { localTime } from './render';

/** Exit codes of `npm run ctl`, one per kind of outcome, so scripts can tell them apart. */
export const EXIT = {
  ok: 0,
  /** The API refused the request: unknown id, a conflict (already finished, not dead-lettered), bad input. */
  refused: 1,
  /** Bad arguments: unknown command or option, a missing argument, a number or time out of what the API takes. */
  usage: 2,
  /** BRAIN_API_KEY is missing, wrong (401) or its role may not do this (403). */
  auth: 3,
  /** The API cannot be reached, or failed (5xx). */
  unreachable: 4,
  /** The server does not offer this (a route an older intake does not have). */
  unavailable: 5,
  /**
   * Too many requests (429): the key's RATE_LIMIT_PER_MINUTE is spent, or the address's
   * AUTH_FAILURES_PER_MINUTE. Nothing is wrong with the request: the same one succeeds later.
   */
  retryLater: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failed call, with the exit code it stands for and a message for a person. */
export class CtlError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** The API's HTTP status, when the API answered with an error. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CtlError';
  }
}

/**
 * The intake's answer to a route it does not have: the route, not the resource, is missing. An
 * older intake passes on Nest's "Cannot GET /api/…"; a newer one says "no such route: GET", as
 * Nest's text quoted the path and query, and this one "no route takes GET at this path".
 */
const NO_ROUTE = /^(?:Cannot |no such route: |no route takes )(?:GET|POST|PATCH|PUT|DELETE)\b/;

/**
 * An id as one segment of a path. `.` and `..` are refused: URL resolution drops such a segment, so
 * `dlq requeue .` would reach the bulk route (`/api/dlq/requeue`), not a mission's.
 */
export function pathSegment(id: string): string {
  if (id === '' || id === '.' || id === '..') throw new CtlError(`${JSON.stringify(id)} is no id`, EXIT.usage);
  return encodeURIComponent(id);
}

/** What an API key may be made of: printable ASCII, as an HTTP header carries it. */
const API_KEY_TEXT = /^[\x21-\x7e]+$/;

/** The intake's REST API, as BRAIN_URL and BRAIN_API_KEY name it. */
export class BrainApi {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string | undefined,
  ) {
    try {
      // As the services check their URLs: fetch refuses user:password@ (and called it "cannot reach", exit 4, printing the password).
      httpUrlParser('BRAIN_URL', { emptyAllowed: false, credentialsGoIn: 'BRAIN_API_KEY' })(baseUrl);
    } catch (error) {
      throw new CtlError(`${(error as Error).message}, such as http://localhost:3000; got ${JSON.stringify(hideUrlCredentials(baseUrl))}`, EXIT.usage);
    }
  }

  get authHeaders(): Record<string, string> {
    if (!this.apiKey) throw new CtlError('BRAIN_API_KEY is not set: export the API key to use (see `npm start` for the local one)', EXIT.auth);
    // Checked here, not by fetch, whose refusal quoted the key and read as "cannot reach the API".
    if (!API_KEY_TEXT.test(this.apiKey)) {
      throw new CtlError(
        'BRAIN_API_KEY holds a line break, a control character or one beyond ASCII, which no API key has (a file of several keys?): give one key',
        EXIT.usage,
      );
    }
    return { Authorization: `Bearer ${this.apiKey}` };
  }

  url(path: string, query: Record<string, string | number | undefined> = {}): string {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    return url.toString();
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.call<T>('GET', this.url(path, query));
  }

  post<T>(path: string, body?: object): Promise<T> {
    return this.call<T>('POST', this.url(path), body);
  }

  patch<T>(path: string, body: object): Promise<T> {
    return this.call<T>('PATCH', this.url(path), body);
  }

  /** The CtlError for a request that got no answer (`error` is what fetch threw). */
  unreachable(error: unknown): CtlError {
    return new CtlError(`cannot reach the API at ${this.baseUrl} (BRAIN_URL): ${fetchFailureCause(error)}`, EXIT.unreachable);
  }

  /** The CtlError for a 2xx no intake sends, such as a page where the live stream should be. */
  notTheIntake(what: string): CtlError {
    return notTheIntake(this.baseUrl, what);
  }

  private async call<T>(method: string, url: string, body?: object): Promise<T> {
    const headers: Record<string, string> = { ...this.authHeaders, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw this.unreachable(error);
    }
    const text = await response.text();
    if (response.ok) return (text === '' ? undefined : parseAnswer(text, this.baseUrl)) as T;
    throw apiError(response.status, text, `${method} ${new URL(url).pathname}`, parseRetryAfterMs(response.headers));
  }
}

/** A 2xx answer's JSON; a page instead (a sign-on proxy's) is no answer of the API. */
function parseAnswer(text: string, baseUrl: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw notTheIntake(baseUrl, 'something that is not JSON');
  }
}

/** The CtlError for a 2xx no intake sends (`what` came instead): no waiting mends it. */
function notTheIntake(baseUrl: string, what: string): CtlError {
  return new CtlError(`the server at ${baseUrl} (BRAIN_URL) answered with ${what}: is it the intake, and not a proxy's page?`, EXIT.unreachable);
}

/**
 * The CtlError for an error answer of the API (its ErrorBodyView, or whatever it sent); for a 429,
 * `retryAfterMs` is its Retry-After, which says when to try again.
 */
export function apiError(status: number, text: string, what: string, retryAfterMs?: number): CtlError {
  let message = text.slice(0, 500);
  let details = '';
  try {
    const body = JSON.parse(text) as { message?: unknown; details?: { field?: string; problems?: string[] }[] };
    if (typeof body.message === 'string') message = body.message;
    if (Array.isArray(body.details) && body.details.length > 0) {
      details = body.details.map((detail) => `\n  ${detail.field ?? ''}: ${(detail.problems ?? []).join('; ')}`).join('');
    }
  } catch {
    // Not an error body (a proxy's page): the text itself says what happened.
  }
  const said = `${what}: ${status} ${message}${details}`;
  // A 405: the route is there, but not under this method (a server older or newer than this ctl).
  if ((status === 404 && NO_ROUTE.test(message)) || status === 405) {
    return new CtlError(`${what}: this server does not offer it (${message})`, EXIT.unavailable, status);
  }
  if (status === 429) {
    const when =
      retryAfterMs === undefined ? 'later' : `in ${Math.ceil(retryAfterMs / 1000)} s (at ${localTime(new Date(Date.now() + retryAfterMs).toISOString())})`;
    return new CtlError(`${said}; try again ${when}`, EXIT.retryLater, status);
  }
  if (status === 401 || status === 403) return new CtlError(said, EXIT.auth, status);
  if (status >= 500) return new CtlError(said, EXIT.unreachable, status);
  return new CtlError(said, EXIT.refused, status);
}
