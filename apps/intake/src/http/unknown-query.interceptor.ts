import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Request } from 'express';
import { Observable } from 'rxjs';
import { isApiRequest } from '../auth/api-path';
import { TAKES_QUERY_DTO } from './query-dto.decorator';
import { invalid } from './request-validation.pipe';

/**
 * Refuses a query parameter on a route that takes none, as the query DTOs refuse one they do not
 * name (the ValidationPipe's whitelist): `property x should not exist`. Without it, such a route
 * answered as if the parameter were not there (`GET /api/agents?status=paused` gave every agent),
 * and a client could not tell its filter was ignored. One check for every route without a
 * `@QueryDto()`, so no route can forget it; runs after the guards (key, role, rate limit, body).
 * Only on /api: `/health` and `/metrics` stay as probes and scrapers expect, whatever they append.
 */
@Injectable()
export class UnknownQueryInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http' || this.reflector.get<boolean>(TAKES_QUERY_DTO, context.getHandler())) return next.handle();
    const request = context.switchToHttp().getRequest<Request>();
    const names = isApiRequest(request) ? Object.keys((request.query ?? {}) as object) : [];
    if (names.length > 0) throw invalid(names.map((name) => ({ field: name, problems: [`property ${name} should not exist`] })));
    return next.handle();
  }
}
