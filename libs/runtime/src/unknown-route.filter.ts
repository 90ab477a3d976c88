import { ArgumentsHost, Catch, HttpStatus, NotFoundException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { Response } from 'express';
import { methodsTakenAt } from '@app/tracing';
import { errorBody } from './error-body';

/** Nest's 404 for a request no route matches: "Cannot <method> <the raw URL, query included>". */
export const NEST_NO_ROUTE = /^Cannot ([A-Z]+) /;

/**
 * For Nest's no-route 404 of a path the app takes under other methods (a route's, `/metrics`,
 * `/health`, the files of a static middleware): the 405's message, with the response's Allow header
 * set to those methods. Undefined for any other error, and for a path nothing takes, which stays a 404.
 */
export function wrongMethodMessage(exception: unknown, response: Response): string | undefined {
  if (!(exception instanceof NotFoundException) || !NEST_NO_ROUTE.test(exception.message)) return undefined;
  const taken = methodsTakenAt(response.req);
  // A file missing under a static mount falls through to Nest's 404 under a method the mount takes.
  if (taken.length === 0 || taken.includes(response.req.method)) return undefined;
  response.setHeader('Allow', taken.join(', '));
  return `${response.req.method} is not a method of this route; it takes ${taken.join(', ')}`;
}

/**
 * The 404 of a service without an API (orchestrator, executor, evaluator, the Odoo connector) for a
 * path no route takes, in the API's error shape: Nest's own body quoted the URL, query string
 * included, and had no `details`; this one keeps only the method and says where the service's
 * routes are documented; a path it takes under other methods (`POST /metrics`) is a 405 with
 * Allow, as on the intake. Any other error, another 404 included, keeps Nest's handling, so a
 * readiness 503 keeps its Terminus body.
 */
@Catch(NotFoundException)
export class UnknownRouteFilter extends BaseExceptionFilter {
  /**
   * `routesDocumented`: where the service's routes are listed, e.g. `docs/operations.md, "Health,
   * readiness and metrics"`; `applicationRef`: the app's HTTP adapter, for the errors passed on.
   */
  constructor(
    private readonly routesDocumented: string,
    applicationRef: ConstructorParameters<typeof BaseExceptionFilter>[0],
  ) {
    super(applicationRef);
  }

  catch(exception: NotFoundException, host: ArgumentsHost): void {
    const noRoute = NEST_NO_ROUTE.exec(exception.message);
    if (!noRoute) return super.catch(exception, host);
    const response = host.switchToHttp().getResponse<Response>();
    const wrongMethod = wrongMethodMessage(exception, response);
    if (wrongMethod) return void response.status(HttpStatus.METHOD_NOT_ALLOWED).json(errorBody(HttpStatus.METHOD_NOT_ALLOWED, wrongMethod));
    response
      .status(HttpStatus.NOT_FOUND)
      .json(errorBody(HttpStatus.NOT_FOUND, `no route takes ${noRoute[1]} at this path; the routes are listed in ${this.routesDocumented}`));
  }
}
