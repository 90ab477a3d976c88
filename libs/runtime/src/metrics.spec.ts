import { Controller, DynamicModule, Get, INestApplication, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NextFunction, Request, Response } from 'express';
import { Gauge } from 'prom-client';
import request from 'supertest';
import { loadEnvironment } from '@app/config';
import { LoggingModule } from '@app/logging';
import { RedisConnection } from '@app/redis';
import { httpMetricsMiddleware, METRIC_COLLECT_TIMEOUT_MS, MetricsRegistry } from './metrics';

@Controller('missions')
class MissionsController {
  @Get(':id')
  one(): string {
    return 'a mission';
  }

  @Post()
  create(): string {
    return 'created';
  }
}

@Module({ controllers: [MissionsController] })
class MissionsModule {
  /** With the log level's request logging: at debug and trace, nestjs-pino's middleware runs for every path. */
  static logging(level: string): DynamicModule {
    return { module: MissionsModule, imports: [LoggingModule.forRoot(loadEnvironment({ LOG_LEVEL: level, LOG_FORMAT: 'json' }), 'intake')] };
  }
}

describe('MetricsRegistry', () => {
  it('given a gauge whose reading never finishes (Redis down), then a scrape answers without it, and brain_redis_up is 0', async () => {
    jest.useFakeTimers();
    try {
      const registry = new MetricsRegistry('intake', { status: 'reconnecting' } as unknown as RedisConnection);
      new Gauge({ name: 'brain_read_from_redis', help: 'hangs', registers: [registry], collect: () => new Promise<void>(() => undefined) });
      new Gauge({ name: 'brain_read_in_memory', help: 'answers', registers: [registry], collect: () => undefined });
      const scrape = registry.metrics();
      await jest.advanceTimersByTimeAsync(METRIC_COLLECT_TIMEOUT_MS);
      const text = await scrape;
      expect(text).not.toContain('brain_read_from_redis');
      expect(text).toMatch(/^brain_redis_up\{service="intake"\} 0$/m);
      // The figures that answer are there: only process metrics were once, which now only the process's first registry has.
      expect(text).toMatch(/^brain_read_in_memory\{service="intake"\} 0$/m);
    } finally {
      jest.useRealTimers();
    }
  });

  it('given several services in one process, when each creates its registry, then only the first exports the process metrics', async () => {
    // A module of its own: its registries are the process' first, whatever the other tests created.
    await jest.isolateModulesAsync(async () => {
      const { MetricsRegistry: Fresh } = await import('./metrics');
      const texts = await Promise.all(['intake', 'orchestrator', 'executor', 'evaluator'].map((service) => new Fresh(service).metrics()));
      // Each of the four had process_resident_memory_bytes and process_cpu_seconds_total, the CPU figures each from its own baseline.
      expect(texts.map((text) => /^process_cpu_seconds_total\{service="(\w+)"\}/m.exec(text)?.[1])).toEqual(['intake', undefined, undefined, undefined]);
      expect(texts.map((text) => /^nodejs_eventloop_lag_seconds/m.test(text))).toEqual([true, false, false, false]);
    });
  });

  it('given a gauge whose reading fails, then the scrape answers with the others instead of failing whole', async () => {
    const registry = new MetricsRegistry('intake', { status: 'ready' } as unknown as RedisConnection);
    new Gauge({ name: 'brain_failing', help: 'fails', registers: [registry], collect: () => Promise.reject(new Error('Connection is closed.')) });
    const text = await registry.metrics();
    expect(text).not.toContain('brain_failing');
    expect(text).toMatch(/^brain_redis_up\{service="intake"\} 1$/m);
  });
});

describe.each(['info', 'debug'])('httpMetricsMiddleware at LOG_LEVEL=%s', (level) => {
  const registry = new MetricsRegistry('intake');
  let app: INestApplication;

  beforeAll(async () => {
    app = await NestFactory.create(MissionsModule.logging(level), { logger: false, bodyParser: false });
    app.setGlobalPrefix('api');
    app.use(httpMetricsMiddleware(registry));
    // As the intake's auth middleware: it answers before any route runs.
    app.use((incoming: Request, response: Response, next: NextFunction) =>
      incoming.headers.authorization === 'Bearer right' ? next() : response.status(401).end(),
    );
    await app.init();
  });

  afterAll(() => app.close());

  /** `method route status` of every request timed so far. */
  async function timed(): Promise<string[]> {
    const { values } = await registry.httpDuration.get();
    return values.filter((value) => value.metricName?.endsWith('_count')).map(({ labels }) => `${labels.method} ${labels.route} ${labels.status}`);
  }

  // At debug, nestjs-pino's middleware is a route for every path (`/api/{*path}`), which labelled the 401s and the 404s.
  it('given requests refused before routing, then they are timed under the route that would have taken them, and paths no route takes under unmatched', async () => {
    const server = app.getHttpServer();
    await request(server).get('/api/missions/m-1').set('authorization', 'Bearer wrong').expect(401);
    await request(server).head('/api/missions/m-2').expect(401);
    await request(server).post('/api/missions').expect(401);
    await request(server).get('/api/missions/m-1').set('authorization', 'Bearer right').expect(200);
    await request(server).get('/api/nowhere').expect(401);
    await request(server).delete('/api/missions/m-1').set('authorization', 'Bearer right').expect(404);
    await request(server).get('/api/nothing/x?x=y').set('authorization', 'Bearer right').expect(404);

    expect((await timed()).sort()).toEqual(
      [
        'GET /api/missions/:id 401',
        'HEAD /api/missions/:id 401',
        'POST /api/missions 401',
        'GET /api/missions/:id 200',
        'GET unmatched 401',
        'DELETE unmatched 404',
        'GET unmatched 404',
      ].sort(),
    );
  });
});
