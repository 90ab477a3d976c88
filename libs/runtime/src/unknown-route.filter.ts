import { ArgumentsHost, Catch, HttpStatus, NotFoundException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { Response } from 'express';
import { errorBody } from './error-body';

/** Nest's 404 for a request no route matches: "Cannot <method> <the raw URL, query included>". */
export const NEST_NO_ROUTE = /^Cannot ([A-Z]+) /;

/**
 * The 404 of a service without an API (orchestrator, executor, evaluator, the Odoo connector) for a
 * path no route takes, in the API's error shape: Nest's own body quoted the URL, query string
 * included, and had no `details`; this one keeps only the method and says where the service's
 * routes are documented. Any other error, another 404 included, keeps Nest's handling, so a
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
    response
      .status(HttpStatus.NOT_FOUND)
      .json(errorBody(HttpStatus.NOT_FOUND, `no route takes ${noRoute[1]} at this path; the routes are listed in ${this.routesDocumented}`));
  }
}
