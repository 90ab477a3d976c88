import { Request } from 'express';

const API = /^\/api(\/|$)/i;

/**
 * Whether a request is for the API. Express matches routes case-insensitively and the matched
 * route pattern can differ from the raw path (`/API/missions`, `/api//missions`), so both the
 * request path and the route that matched are checked: a request counts as API if either says so.
 */
export function isApiRequest(request: Pick<Request, 'path' | 'url'> & { route?: { path?: unknown } }): boolean {
  const path = (request.path ?? request.url ?? '').replace(/\/{2,}/g, '/');
  const routePath = typeof request.route?.path === 'string' ? request.route.path : '';
  return API.test(path) || API.test(routePath);
}
