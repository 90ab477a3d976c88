import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { Request } from 'express';
import { Observable } from 'rxjs';
import { isApiRequest } from '../auth/api-path';
import { invalid } from './request-validation.pipe';

/** Whether a handler takes its query as a `@Query()` DTO, by handler (read once each). */
const takesQuery = new WeakMap<object, boolean>();

function declaresQuery(context: ExecutionContext): boolean {
  const handler = context.getHandler();
  let known = takesQuery.get(handler);
  if (known === undefined) {
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {}) as Record<string, unknown>;
    known = Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.QUERY));
    takesQuery.set(handler, known);
  }
  return known;
}

/**
 * Refuses a query parameter on a route that takes none, as the query DTOs refuse one they do not
 * name (the ValidationPipe's whitelist): `property x should not exist`. Without it, such a route
 * answered as if the parameter were not there (`GET /api/agents?status=paused` gave every agent),
 * and a client could not tell its filter was ignored. One check for every route without a
 * `@Query()` DTO, so no route can forget it; runs after the guards (key, role, rate limit, body).
 * Only on /api: `/health` and `/metrics` stay as probes and scrapers expect, whatever they append.
 */
@Injectable()
export class UnknownQueryInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http' || declaresQuery(context)) return next.handle();
    const request = context.switchToHttp().getRequest<Request>();
    const names = isApiRequest(request) ? Object.keys((request.query ?? {}) as object) : [];
    if (names.length > 0) throw invalid(names.map((name) => ({ field: name, problems: [`property ${name} should not exist`] })));
    return next.handle();
  }
}
