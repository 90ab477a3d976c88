/**
 * The API shapes the console reads (see /docs-json for the whole document). Those the libs define
 * browser-safe (Mission, MissionEvent, AgentPublicView, QueueStats, DeadLetterEntry, MissionPage)
 * come from their `browser` entries instead. Role and Caller stay here: the intake defines them
 * (apps/intake/src/auth), with a `client` role no console key holds.
 */
export type Role = 'reader' | 'submitter' | 'reviewer' | 'operator';

export interface Caller {
  name: string;
  role: Role;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** A 429's Retry-After: how long the API asks to be left alone. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Where the key is kept: for this tab only, gone when it closes; never in a URL or a log. */
const KEY_STORAGE = 'brain.apiKey';

export const storedKey = (): string | null => sessionStorage.getItem(KEY_STORAGE);
export const storeKey = (key: string): void => sessionStorage.setItem(KEY_STORAGE, key);
export const forgetKey = (): void => sessionStorage.removeItem(KEY_STORAGE);

/**
 * Dispatched on window when the API answers 401 to the stored key (revoked, or rotated away): the
 * key is forgotten and the console goes back to sign-in. Were it kept, every poll and stream
 * reconnect would count a failed authentication for the address, and past
 * AUTH_FAILURES_PER_MINUTE every console and CLI behind it would get 429s.
 */
export const KEY_REJECTED = 'brain:key-rejected';

/** The status of an ApiFailure whose request got no answer: the intake is stopped, or the network between is down. */
export const UNREACHABLE = 0;
const UNREACHABLE_READ = 'The intake cannot be reached (it is stopped, or the network is down).';
const UNREACHABLE_CHANGE =
  'The intake cannot be reached (it is stopped, or the network is down), so whether this was done is not known: once it answers, see the page as it is now before you try again.';

/** What each role may do; reviewers (when review is enabled) read and review, and nothing else. */
const RIGHTS: Record<Role, readonly Role[]> = {
  reader: ['reader'],
  submitter: ['reader', 'submitter'],
  reviewer: ['reader', 'reviewer'],
  operator: ['reader', 'submitter', 'reviewer', 'operator'],
};

export function allows(role: Role, needed: Role): boolean {
  return RIGHTS[role]?.includes(needed) ?? false;
}

/**
 * Calls the intake's API with the stored key (or `key`); an error answer becomes an ApiFailure with
 * the API's message. A request `signal` aborted rejects with the abort's own error, not as
 * unreachable: whoever aborted it no longer wants its answer.
 */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  { key = storedKey(), signal }: { key?: string | null; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  let text: string;
  try {
    // no-store: always the current state, never a cached copy or a 304 to revalidate one.
    response = await fetch(path, { method, headers, cache: 'no-store', signal, body: body === undefined ? undefined : JSON.stringify(body) });
    text = await response.text();
  } catch (failure) {
    if (signal?.aborted) throw failure;
    // The browser's own words ("Failed to fetch") said neither what failed nor whether a decision was recorded.
    throw new ApiFailure(UNREACHABLE, method === 'GET' ? UNREACHABLE_READ : UNREACHABLE_CHANGE);
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const parsed = JSON.parse(text) as { message?: string; details?: unknown };
      if (parsed.message) message = withDetails(parsed.message, parsed.details);
    } catch {
      // Not an error body: the status says enough.
    }
    if (response.status === 401 && key !== null && key === storedKey()) {
      forgetKey();
      window.dispatchEvent(new Event(KEY_REJECTED));
    }
    // The key's RATE_LIMIT_PER_MINUTE spent, or the address's AUTH_FAILURES_PER_MINUTE; or Redis
    // down or full (503): when to try again.
    const retryAfterMs = response.status === 429 || response.status === 503 ? waitAsked(response.headers.get('Retry-After')) : undefined;
    if (retryAfterMs !== undefined && response.status === 429) message = `Too many requests: try again in ${Math.ceil(retryAfterMs / 1000)} s (${message})`;
    throw new ApiFailure(response.status, message, retryAfterMs);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

export function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A Retry-After header in ms: seconds (as the intake sends it) or an HTTP date (as a proxy may); undefined without one. */
function waitAsked(header: string | null): number | undefined {
  if (header === null) return undefined;
  const ms = /^\d+$/.test(header.trim()) ? Number(header) * 1000 : Date.parse(header) - Date.now();
  return Number.isNaN(ms) ? undefined : Math.max(0, ms);
}

/**
 * The API's message with what its `details` say, field by field ("request validation failed" says
 * nothing of which field, or why).
 */
function withDetails(message: string, details: unknown): string {
  if (!Array.isArray(details)) return message;
  const said = details
    .filter((detail): detail is { field: string; problems: string[] } => typeof detail?.field === 'string' && Array.isArray(detail?.problems))
    .map((detail) => `${detail.field}: ${detail.problems.join('; ')}`);
  return said.length > 0 ? `${message}: ${said.join(' · ')}` : message;
}
