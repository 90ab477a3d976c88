import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, NotFoundException } from '@nestjs/common';
import { Response } from 'express';
import { errorBody } from './error-body';

/** Nest's 404 for a request no route matches: "Cannot <method> <the raw URL, query included>". */
export const NEST_NO_ROUTE = /^Cannot ([A-Z]+) /;

/**
 * The 404 of a service without an API (orchestrator, executor, evaluator, the Odoo connector) in the
 * API's error shape, for the one 404 these services give: a path no route takes. Nest's own body
 * quoted the URL, query string included, and had no `details`; this one keeps only the method and
 * says where the service's routes are documented. Every other error keeps Nest's handling, so a
 * readiness 503 keeps its Terminus body.
 */
@Catch(NotFoundException)
export class UnknownRouteFilter implements ExceptionFilter {
  /** `routesDocumented`: where the service's routes are listed, e.g. `docs/operations.md, "Health, readiness and metrics"`. */
  constructor(private readonly routesDocumented: string) {}

  catch(exception: NotFoundException, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const method = NEST_NO_ROUTE.exec(exception.message)?.[1] ?? response.req.method;
    response.status(HttpStatus.NOT_FOUND).json(errorBody(HttpStatus.NOT_FOUND, `no such route: ${method}; the routes are listed in ${this.routesDocumented}`));
  }
}
