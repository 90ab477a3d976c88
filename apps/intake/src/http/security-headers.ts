import { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { isApiRequest } from '../auth/api-path';

/**
 * helmet's defaults but one: no `upgrade-insecure-requests` in the Content-Security-Policy. The
 * console is often opened over plain HTTP on the hotel's network (`http://10.0.0.5:3000/console`);
 * that directive made the browser fetch its own scripts and styles over HTTPS, which such a host
 * does not serve, and the page stayed blank. Its assets are same-origin relative paths, so behind
 * TLS the directive has nothing to upgrade either.
 */
export const HELMET_OPTIONS = { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } } as const;

/** What helmet(HELMET_OPTIONS) sets on a response. With these options every header is a constant. */
export function helmetHeaders(): OutgoingHttpHeaders {
  const response = new ServerResponse(new IncomingMessage(new Socket()));
  helmet(HELMET_OPTIONS)(response.req, response, () => undefined);
  return response.getHeaders();
}

/**
 * helmet's headers, worked out once at start-up and then set directly: the same headers as
 * `app.use(helmet(HELMET_OPTIONS))`, without running helmet's chain of a dozen middlewares (5 % of
 * the intake's CPU per create).
 */
export function securityHeaders(): (request: Request, response: Response, next: NextFunction) => void {
  const headers = Object.entries(helmetHeaders()).flatMap(([name, value]) => (value === undefined ? [] : [[name, value] as const]));
  return (_request, response, next) => {
    for (const [name, value] of headers) response.setHeader(name, value);
    next();
  };
}

/** What every /api response says to caches (the live stream's 200 sets its own, `no-cache, no-transform`). */
export const API_CACHE_CONTROL = 'no-store';

/**
 * `Cache-Control: no-store` on every /api response, errors and refusals included: they carry guest
 * data and other things no browser, proxy or CDN should keep. A route may set its own after this
 * (the live stream does); /health, /docs and the console keep theirs.
 */
export function noStoreApiResponses(): (request: Request, response: Response, next: NextFunction) => void {
  return (request, response, next) => {
    if (isApiRequest(request)) response.setHeader('Cache-Control', API_CACHE_CONTROL);
    next();
  };
}
