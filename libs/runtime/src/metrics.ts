import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { RedisConnection, redisMemoryFull, redisReachable, withinDeadline } from '@app/redis';
import { requestRoute } from '@app/tracing';

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
 * `brain_redis_up` and `brain_redis_memory_full`. The first registry created in the process also has the process' default
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
      new Gauge({
        name: 'brain_redis_memory_full',
        help: '1 while Redis refuses writes for its maxmemory (INFO memory at scrape time), 0 otherwise; missing while Redis is down or refuses INFO',
        registers: [this],
        async collect() {
          // Thrown, not 0: the registry then leaves the gauge out of the scrape, as it does every figure Redis did not give.
          if (!redisReachable(redis)) throw new Error('Redis is unreachable');
          const full = await redisMemoryFull(redis);
          if (full === undefined) throw new Error('Redis refuses INFO');
          this.set(full ? 1 : 0);
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

/** The route label of a request no route pattern matches (a 404 or 405). */
const UNMATCHED = 'unmatched';

/**
 * Times every HTTP request by its route pattern (not its URL, which would explode the label set),
 * with the status that was actually sent. A middleware, not a Nest interceptor: as long as no
 * interceptor is registered, Nest skips its rxjs pipeline for every request, which cost the
 * intake ~6 % of its CPU per create.
 */
export function httpMetricsMiddleware(registry: MetricsRegistry): (request: Request, response: Response, next: NextFunction) => void {
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const route = requestRoute(request) ?? UNMATCHED;
      registry.httpDuration.observe({ method: request.method, route, status: String(response.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
