import { createHmac, timingSafeEqual } from 'node:crypto';
import { Request } from 'express';
import { isReadMethod } from '@app/tracing';
import { ApiClient } from '../auth/api-client';
import { ApiKeyStore } from '../auth/api-key-store';
import { OtherAuthentication } from '../auth/api-key.middleware';
import { givenMoreThanOnce, invalid } from '../http/request-validation.pipe';

export const STREAM_TOKEN_TTL_MS = 60_000;
const PURPOSE = 'brain stream token v1';
const VERSION = 'v1';

export interface StreamToken {
  token: string;
  expiresAt: string;
}

/**
 * Short-lived tokens for `GET /api/stream`, for EventSource, which cannot send an API key in a
 * header: `v1.<payload>.<mac>`, the payload naming the key and the expiry, the MAC made with a
 * key derived from that API key's first secret (a key being rotated has two; a MAC by either is
 * accepted). Nothing is stored, so any intake instance with the same API_KEYS accepts it; the
 * role is the key's role at the time of use.
 */
export class StreamTokens {
  constructor(
    private readonly store: ApiKeyStore,
    private readonly now: () => number = Date.now,
  ) {}

  issue(caller: string): StreamToken {
    const signing = this.store.signingKeys(caller, PURPOSE);
    // The guard attached the caller from this very store.
    if (!signing) throw new Error(`no API key named ${caller}`);
    const expires = this.now() + STREAM_TOKEN_TTL_MS;
    const payload = Buffer.from(JSON.stringify({ n: caller, e: expires })).toString('base64url');
    return { token: `${VERSION}.${payload}.${this.mac(signing.keys[0], payload)}`, expiresAt: new Date(expires).toISOString() };
  }

  /** The caller a token stands for, or undefined when it is malformed, forged, expired, or its key is gone. */
  verify(token: string): ApiClient | undefined {
    const [version, payload, mac, ...rest] = token.split('.');
    if (version !== VERSION || !payload || !mac || rest.length > 0) return undefined;
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof claims !== 'object' || claims === null) return undefined;
    const { n: name, e: expires } = claims as Record<string, unknown>;
    if (typeof name !== 'string' || typeof expires !== 'number' || expires <= this.now()) return undefined;
    const signing = this.store.signingKeys(name, PURPOSE);
    if (!signing) return undefined;
    const presented = Buffer.from(mac);
    const matches = signing.keys.filter((key) => {
      const expected = Buffer.from(this.mac(key, payload));
      return presented.length === expected.length && timingSafeEqual(presented, expected);
    });
    return matches.length > 0 ? signing.client : undefined;
  }

  private mac(key: Buffer, payload: string): string {
    return createHmac('sha256', key).update(payload).digest('base64url');
  }
}

export const INVALID_STREAM_TOKEN = 'invalid or expired stream token: get a new one from POST /api/stream/tokens';
const STREAM_PATH = /^\/api\/stream\/?$/i;

/**
 * For the API's authentication middleware: a `token` query parameter authenticates a GET (or HEAD)
 * of the stream route, and nothing else (a token in a URL may end up in a proxy's log; it is short-lived
 * and good only for reading the stream). Given twice, it is the 400 of any query parameter given
 * twice, neither looked up: it was passed over as no token, a 401 saying the API key was missing.
 */
export function streamTokenAuthentication(tokens: StreamTokens): (request: Request) => OtherAuthentication | undefined {
  return (request) => {
    const token: unknown = (request.query as Record<string, unknown> | undefined)?.token;
    // HEAD too: the route answers it as a GET without the body.
    if (!isReadMethod(request.method) || !STREAM_PATH.test(request.path.replace(/\/{2,}/g, '/'))) return undefined;
    if (Array.isArray(token)) return { refusal: invalid([{ field: 'token', problems: [givenMoreThanOnce('token')] }]) };
    if (typeof token !== 'string') return undefined;
    const client = tokens.verify(token);
    return client ? { client } : { failure: INVALID_STREAM_TOKEN };
  };
}
