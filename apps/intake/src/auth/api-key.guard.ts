import { IncomingMessage } from 'node:http';
import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Response } from 'express';
import { isReadMethod } from '@app/tracing';
import { ApiClient, AuthenticatedRequest } from './api-client';
import { Role, roleAllows } from './api-key';
import { ApiKeyStore } from './api-key-store';
import { isApiRequest } from './api-path';
import { OPEN_TO_CLIENTS } from './open-to-clients.decorator';
import { REQUIRED_ROLE } from './requires-role.decorator';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
/** `Bearer` with no key after it (trimmed): a client whose key variable was empty. */
const EMPTY_BEARER = /^Bearer$/i;

/** Reading is the only thing a reader may do, so only reads default to it; all else is an operator's. */
export function defaultRole(method: string): Role {
  return isReadMethod(method.toUpperCase()) ? 'reader' : 'operator';
}

/**
 * The global guard of the API: every `/api` route needs a key (`Authorization: Bearer <key>` or
 * `X-API-Key: <key>`) whose role is at least the route's `@RequiresRole`; a `client` key, a route
 * marked `@OpenToClients`. Everything else
 * (health, metrics, docs, stream handlers) passes. Register it before ApiKeyThrottlerGuard,
 * which counts requests by the caller this guard attaches.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly store: ApiKeyStore,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    if (!isApiRequest(request)) return true;

    const authentication = request.apiClient ? { client: request.apiClient } : authenticate(this.store, request);
    if ('failure' in authentication) throw unauthorized(http.getResponse<Response>(), authentication.failure);
    const client = authentication.client;
    request.apiClient = client;

    const required =
      this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, [context.getHandler(), context.getClass()]) ?? defaultRole(request.method);
    const openToClients = this.reflector.get<boolean | undefined>(OPEN_TO_CLIENTS, context.getHandler()) === true;
    if (!roleAllows(client.role, required, openToClients)) {
      throw new ForbiddenException(`API key "${client.name}" has role ${client.role}; this needs ${required}`);
    }
    return true;
  }
}

export const MISSING_KEY = 'missing API key: send Authorization: Bearer <key> or X-API-Key: <key>';
export const INVALID_KEY = 'invalid API key';
/** The same for every value, whatever the secret in it: another scheme is never looked up, so this says nothing about which keys exist. */
export const WRONG_SCHEME = 'invalid API key: use Authorization: Bearer <key> or X-API-Key: <key>; other schemes are not read';
export const TWO_KEYS = 'two different API keys: send one, in a single Authorization: Bearer <key> or X-API-Key: <key> header';

export type Authentication = { client: ApiClient } | { failure: string };

/**
 * Who presents a key: `Authorization: Bearer <key>` or `X-API-Key: <key>`, nothing else. An
 * Authorization header in another scheme, or a bare secret without one, is never looked up, so
 * it can neither pass nor serve to guess keys; it is an "invalid" key rather than a "missing" one,
 * since the client did try, with a hint at the form that is read (a `Basic` header or a bare
 * secret is a common first attempt). A header that is present but blank, or `Bearer` with no key
 * after it (an unset variable in `Bearer $KEY`), counts as missing. Two different
 * keys (one in each header, or a header sent twice) are refused without looking either up: which
 * one the client meant cannot be told, and taking one would act with a role the client may not
 * have meant to use. Every header line counts (`headersDistinct`): Node keeps only the first of two
 * Authorization lines in `headers`, and a proxy that keeps the last would authenticate another key
 * than this. The same key more than once passes.
 */
export function authenticate(store: ApiKeyStore, request: Pick<IncomingMessage, 'headersDistinct'>): Authentication {
  const authorizations = (request.headersDistinct.authorization ?? []).map((value) => value.trim()).filter((value) => value !== '');
  const bearers = authorizations.map((value) => BEARER.exec(value)?.[1]).filter((key) => key !== undefined);
  const apiKeys = (request.headersDistinct['x-api-key'] ?? []).map((value) => value.trim()).filter((value) => value !== '');
  const presented = new Set([...bearers, ...apiKeys]);
  if (presented.size > 1) return { failure: TWO_KEYS };
  const [key] = presented;
  if (key) {
    const client = store.find(key);
    return client ? { client } : { failure: INVALID_KEY };
  }
  const tried = authorizations.filter((value) => !EMPTY_BEARER.test(value));
  return { failure: tried.length > 0 ? WRONG_SCHEME : MISSING_KEY };
}

export function unauthorized(response: Response, message: string): UnauthorizedException {
  // RFC 9110: a 401 must name the scheme; the error filter keeps headers set before it writes.
  response.setHeader('WWW-Authenticate', 'Bearer realm="brain"');
  return new UnauthorizedException(message);
}
