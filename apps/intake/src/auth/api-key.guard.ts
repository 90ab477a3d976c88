import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Response } from 'express';
import { AuthenticatedRequest } from './api-client';
import { Role, roleAllows } from './api-key';
import { ApiKeyStore } from './api-key-store';
import { isApiRequest } from './api-path';
import { REQUIRED_ROLE } from './requires-role.decorator';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Reading is the only thing a reader may do, so only reads default to it; all else is an operator's. */
export function defaultRole(method: string): Role {
  const upper = method.toUpperCase();
  return upper === 'GET' || upper === 'HEAD' ? 'reader' : 'operator';
}

/**
 * The global guard of the API: every `/api` route needs a key (`Authorization: Bearer <key>` or
 * `X-API-Key: <key>`) whose role is at least the route's `@RequiresRole`. Everything else
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

    const response = http.getResponse<Response>();
    const presented = presentedKey(request);
    if (presented === undefined) throw unauthorized(response, 'missing API key: send Authorization: Bearer <key> or X-API-Key: <key>');
    const client = this.store.find(presented);
    if (!client) throw unauthorized(response, 'invalid API key');
    request.apiClient = client;

    const required =
      this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, [context.getHandler(), context.getClass()]) ??
      defaultRole(request.method);
    if (!roleAllows(client.role, required)) {
      throw new ForbiddenException(`API key "${client.name}" has role ${client.role}; this needs ${required}`);
    }
    return true;
  }
}

/**
 * The key from either header. An Authorization header in another scheme (Basic) is not a key;
 * a header that is present but blank counts as missing.
 */
function presentedKey(request: AuthenticatedRequest): string | undefined {
  const authorization = request.headers.authorization?.trim();
  const bearer = authorization ? BEARER.exec(authorization)?.[1] : undefined;
  if (bearer) return bearer;
  const header = request.headers['x-api-key'];
  const apiKey = (Array.isArray(header) ? header.join(',') : header)?.trim();
  if (apiKey) return apiKey;
  // A malformed Authorization header is still an attempt, so the client hears "invalid", not "missing".
  return authorization ? authorization : undefined;
}

function unauthorized(response: Response, message: string): UnauthorizedException {
  // RFC 9110: a 401 must name the scheme; the error filter keeps headers set before it writes.
  response.setHeader('WWW-Authenticate', 'Bearer realm="brain"');
  return new UnauthorizedException(message);
}
