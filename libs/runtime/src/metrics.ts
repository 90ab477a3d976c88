import { CallHandler, Controller, ExecutionContext, Get, Header, Injectable, NestInterceptor } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { Observable, tap } from 'rxjs';

/**
 * One registry per service instance (not prom-client's global one), so several services can
 * live in one process, as in the end-to-end tests.
 */
export class MetricsRegistry extends Registry {
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(service: string) {
    super();
    this.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this });
    this.httpDuration = new Histogram({
      name: 'brain_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this],
    });
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

/** Times every HTTP request by its route pattern (not its URL, which would explode the label set). */
@Injectable()
export class HttpMetricsInterceptor implements NestInterceptor {
  constructor(private readonly registry: MetricsRegistry) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const started = process.hrtime.bigint();
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const observe = () => {
      const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const status = String(http.getResponse<Response>().statusCode);
      this.registry.httpDuration.observe({ method: request.method, route, status }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    return next.handle().pipe(tap({ complete: observe, error: observe }));
  }
}
