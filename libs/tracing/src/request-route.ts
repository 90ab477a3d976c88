import { IncomingMessage, METHODS } from 'node:http';

/*
 * The route of an HTTP request, as its span and its metric name it: one lookup for both, so a
 * request's span and its `brain_http_request_duration_seconds` label agree. Read from what Express
 * leaves on the request, without importing Express (the tracing SDK loads before it).
 */

/**
 * What the lookup reads of a route: its pattern, and the methods it takes (`_all` for `route.all()`;
 * Express's `app.all()` adds each method instead).
 */
interface ExpressRoute {
  path: string;
  methods: Record<string, boolean | undefined>;
}

/**
 * What the lookup reads of a layer of express 5's router (the `router` package, 2.x): the route it
 * holds, and the matchers the router itself runs on a path, which have no side effects (its
 * `match()` would overwrite the layer's params and path in the middle of other requests).
 */
interface RouterLayer {
  route?: ExpressRoute;
  matchers: ((path: string) => unknown)[];
}

/** Where markStaticRoute keeps the mount of the files a request is served from. */
const STATIC_MOUNT = Symbol('brain.staticMount');

/** An incoming request as Express leaves it: its app's router, the route it entered last, if any, under the router's mount path. */
interface ExpressRequest extends IncomingMessage {
  [STATIC_MOUNT]?: string;
  app?: { router?: { stack: RouterLayer[] } };
  route?: ExpressRoute;
  baseUrl?: string;
  path?: string;
}

/**
 * How many refused requests' method and path keep their looked-up route, per app: the paths come
 * from clients, so the cache is emptied when full instead of growing with them.
 */
const ROUTE_LOOKUP_CACHE_SIZE = 1_000;

/** Per router stack (one per app; several apps share a process in the one-process runner): `method path` → route, null for none. */
const lookedUp = new WeakMap<readonly RouterLayer[], Map<string, string | null>>();

/**
 * Whether the route is an API route rather than a middleware's: Nest mounts a module's middleware
 * (nestjs-pino's, at LOG_LEVEL debug and trace) as a route for every method, `/{*path}`, ahead of
 * the API's routes, and `request.route` stays that route when no API route follows (a 404). The
 * API's routes each take their own methods (a 405's Allow lists them), none takes all.
 */
function isApiRoute({ methods }: ExpressRoute): boolean {
  return !methods._all && !METHODS.every((method) => methods[method.toLowerCase()]);
}

/** As the router's Route#_handlesMethod: HEAD is served by GET without a HEAD route. */
function handlesMethod(methods: Record<string, boolean | undefined>, method: string): boolean {
  const name = method.toLowerCase();
  return Boolean(methods[name] || (name === 'head' && !methods.head && methods.get));
}

function pathMatches(match: (path: string) => unknown, path: string): boolean {
  try {
    return match(path) !== false;
  } catch {
    // Only decoding a parameter throws (a malformed %-escape), after the pattern matched: the router answers that route's 400.
    return true;
  }
}

/** The methods, in an Allow header's order, that read and change nothing: those a static middleware's files take (markStaticRoute). */
const READ_METHODS = ['GET', 'HEAD'];

/** Whether `method` (as Node gives it, upper case) only reads: GET, or HEAD, which Express answers as GET without the body. */
export function isReadMethod(method: string | undefined): boolean {
  return READ_METHODS.includes(method ?? '');
}

/** The order in which an Allow header lists methods: the common ones first, then the rest as Node knows them. */
const ALLOW_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];

/** The pattern of the first API route that would take this request, in the router's order; null when none would. */
function routePatternOf(layers: readonly RouterLayer[], method: string, path: string): string | null {
  const layer = layers.find(
    ({ route, matchers }) => route && isApiRoute(route) && handlesMethod(route.methods, method) && matchers.some((match) => pathMatches(match, path)),
  );
  return layer?.route?.path ?? null;
}

/**
 * The route pattern of the request (`/api/missions/:id`, never its path): the API route it matched,
 * else, for a request refused before routing (the auth middleware's 401, a body's 413 or 415), the
 * one that would have taken it, so refusals can be told per route and from a 404. Undefined when
 * no API route takes its path and method (a 404 or 405), or Express never saw it. A request to
 * files a static middleware serves is named by their mount (markStaticRoute).
 */
export function requestRoute(incoming: IncomingMessage): string | undefined {
  const request = incoming as ExpressRequest;
  // Under any other method the files are not served: a path and method no route takes, as a 405 is.
  if (request[STATIC_MOUNT] !== undefined && isReadMethod(request.method)) return request[STATIC_MOUNT];
  const { route, baseUrl = '' } = request;
  if (route && isApiRoute(route)) return `${baseUrl}${route.path}`;
  const stack = request.app?.router?.stack;
  if (!stack || request.method === undefined || request.path === undefined) return undefined;
  let routes = lookedUp.get(stack);
  if (!routes) lookedUp.set(stack, (routes = new Map()));
  const key = `${request.method} ${request.path}`;
  let pattern = routes.get(key);
  if (pattern === undefined) {
    pattern = routePatternOf(stack, request.method, request.path);
    if (routes.size >= ROUTE_LOOKUP_CACHE_SIZE) routes.clear();
    routes.set(key, pattern);
  }
  return pattern ?? undefined;
}

/**
 * Every method the app takes at the request's path, in an Allow header's order (HEAD wherever GET
 * is, as Express answers it): those of its API routes whose pattern matches the path, and GET and
 * HEAD for the files of a static middleware it was under (markStaticRoute). Empty when nothing
 * takes the path, or Express never saw it. For a 405's Allow: the path is there, not the method.
 */
export function methodsTakenAt(incoming: IncomingMessage): string[] {
  const request = incoming as ExpressRequest;
  const { path } = request;
  const taken = new Set<string>(request[STATIC_MOUNT] !== undefined ? READ_METHODS : []);
  if (path !== undefined) {
    for (const { route, matchers } of request.app?.router?.stack ?? []) {
      if (!route || !isApiRoute(route) || !matchers.some((match) => pathMatches(match, path))) continue;
      for (const method of METHODS) if (handlesMethod(route.methods, method)) taken.add(method);
    }
  }
  const ordered = ALLOW_ORDER.filter((method) => taken.has(method));
  return [...ordered, ...[...taken].filter((method) => !ALLOW_ORDER.includes(method)).sort()];
}

/**
 * Names the request by `mount` (`/console`), the files it is served from by a static middleware,
 * which no route pattern takes: its pages and assets were labelled as a path no route takes, with
 * the 404s and 405s (`route="unmatched"`, a span's `(no route)`), though they were served. Called
 * for every request under the mount: one under a method other than GET and HEAD is not served, and
 * keeps the name of a path and method no route takes, while the mount's methods go to its 405's
 * Allow (methodsTakenAt).
 */
export function markStaticRoute(incoming: IncomingMessage, mount: string): void {
  (incoming as ExpressRequest)[STATIC_MOUNT] = mount;
}
