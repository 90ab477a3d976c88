import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { RedisConnection, redisReachable, withinDeadline } from '@app/redis';

/**
 * How long a scrape waits for a metric's figures. Most gauges are read from Redis at scrape time;
 * while Redis is down their commands would wait out every reconnect (about 30 s), and a scrape
 * waits for all of them.
 */
export const METRIC_COLLECT_TIMEOUT_MS = 1_000;

/**
 * Whether a registry of this process has the default metrics (`process_*`, `nodejs_*`) already.
 * They describe the process, not a service: with one copy per registry, the services of one
 * process exported the same RSS four times, and CPU counters each with its own baseline.
 */
let processMetricsCollected = false;

/**
 * One registry per service instance (not prom-client's global one), so several services can
 * live in one process, as in the end-to-end tests. Given the service's Redis connection, it has
 * `brain_redis_up`. The first registry created in the process also has the process' default
 * metrics (in one process, the intake's: it is started first).
 */
export class MetricsRegistry extends Registry {
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(service: string, redis?: RedisConnection) {
    super();
    if (redis) {
      new Gauge({
        name: 'brain_redis_up',
        help: "1 while this instance's Redis connection is up, 0 while it is reconnecting (gauges read from Redis are then left out of /metrics)",
        registers: [this],
        collect() {
          this.set(redisReachable(redis) ? 1 : 0);
        },
      });
    }
    this.setDefaultLabels({ service });
    if (!processMetricsCollected) {
      collectDefaultMetrics({ register: this });
      processMetricsCollected = true;
    }
    this.httpDuration = new Histogram({
      name: 'brain_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this],
    });
  }

  /**
   * Every metric whose figures are ready within METRIC_COLLECT_TIMEOUT_MS; the others (gauges read
   * from a Redis that does not answer, a collect that failed) are left out of this scrape instead
   * of holding it up or failing it whole.
   */
  override async metrics(): Promise<string> {
    const texts = await Promise.all(
      this.getMetricsAsArray().map(async (metric) => (await withinDeadline(this.getSingleMetricAsString(metric.name), METRIC_COLLECT_TIMEOUT_MS))?.value),
    );
    return `${texts.filter((text): text is string => text !== undefined).join('\n\n')}\n`;
  }
}

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: MetricsRegistry) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The route label of a request no route pattern matches (a 404 for an unknown path or method). */
const UNMATCHED = 'unmatched';
/**
 * How many refused requests' method and path keep their looked-up label: the paths come from
 * clients, so the cache is emptied when full instead of growing with them.
 */
const ROUTE_LOOKUP_CACHE_SIZE = 1_000;

/**
 * What the lookup reads of a layer of express 5's router (the `router` package, 2.x): the route it
 * holds, and the matchers the router itself runs on a path, which have no side effects (its
 * `match()` would overwrite the layer's params and path in the middle of other requests).
 */
interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean | undefined> };
  matchers: ((path: string) => unknown)[];
}

/** As the router's Route#_handlesMethod: `all()` takes any method, and HEAD is served by GET without a HEAD route. */
function handlesMethod(methods: Record<string, boolean | undefined>, method: string): boolean {
  const name = method.toLowerCase();
  return Boolean(methods._all || methods[name] || (name === 'head' && !methods.head && methods.get));
}

function pathMatches(match: (path: string) => unknown, path: string): boolean {
  try {
    return match(path) !== false;
  } catch {
    // Only decoding a parameter throws (a malformed %-escape), after the pattern matched: the router answers that route's 400.
    return true;
  }
}

/** The pattern of the first route that would take this request, in the router's order; UNMATCHED when none would. */
function routePatternOf(layers: readonly RouterLayer[], method: string, path: string): string {
  const layer = layers.find(({ route, matchers }) => route && handlesMethod(route.methods, method) && matchers.some((match) => pathMatches(match, path)));
  return layer?.route?.path ?? UNMATCHED;
}

/**
 * Times every HTTP request by its route pattern (not its URL, which would explode the label set),
 * with the status that was actually sent. A middleware, not a Nest interceptor: as long as no
 * interceptor is registered, Nest skips its rxjs pipeline for every request, which cost the
 * intake ~6 % of its CPU per create.
 */
export function httpMetricsMiddleware(registry: MetricsRegistry): (request: Request, response: Response, next: NextFunction) => void {
  const lookedUp = new Map<string, string>();
  /**
   * A request refused before routing (the auth middleware's 401, a body's 413 or 415) has no
   * `request.route`; it gets the pattern of the route that would have taken it, so refusals can be
   * told per route and from a 404, still never a raw path.
   */
  const refusedRoute = (request: Request): string => {
    const key = `${request.method} ${request.path}`;
    let route = lookedUp.get(key);
    if (route === undefined) {
      route = routePatternOf(request.app.router.stack as unknown as RouterLayer[], request.method, request.path);
      if (lookedUp.size >= ROUTE_LOOKUP_CACHE_SIZE) lookedUp.clear();
      lookedUp.set(key, route);
    }
    return route;
  };
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      // Express sets `route` once a route matched.
      const route = (request.route as { path?: string } | undefined)?.path ?? refusedRoute(request);
      registry.httpDuration.observe({ method: request.method, route, status: String(response.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
