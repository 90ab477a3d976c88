import { Request } from 'express';

const API = /^\/api(\/|$)/i;

/**
 * Whether a request is for the API. Express matches routes case-insensitively, so the matched
 * route pattern can differ from the raw path (`/API/missions`), and both the request path and the
 * route that matched are checked: a request counts as API if either says so. Repeated slashes are
 * collapsed first: `/api//missions` matches no route (Express 5), but its 404 must still be the
 * API's, authenticated and answered as JSON.
 */
export function isApiRequest(request: Pick<Request, 'path' | 'url'> & { route?: { path?: unknown } }): boolean {
  const path = (request.path ?? request.url ?? '').replace(/\/{2,}/g, '/');
  const routePath = typeof request.route?.path === 'string' ? request.route.path : '';
  return API.test(path) || API.test(routePath);
}
