import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Environment } from '@app/config';
import { KeyLayout, MissionStore } from '@app/event-store';
import { MissionPersonalData } from '@app/guest-data';
import { LoggingModule } from '@app/logging';
import { ServiceName } from '@app/messages';
import { queueOrderOf, ReadyQueue } from '@app/mission-queue';
import { MissionPipeline } from '@app/pipeline';
import { closeConnection, createRedisConnection, RedisConnection } from '@app/redis';
import { flushTracingAtShutdown, ServiceTracer } from '@app/tracing';
import { ConsumerHealth } from './consumer-health';
import { HealthController } from './health.controller';
import { keyLayoutOf } from './key-layout-of';
import { LogPartitionsGuard } from './log-partitions-guard';
import { MasterKeyGuard } from './master-key-guard';
import { MetricsController, MetricsRegistry } from './metrics';
import { personalDataOf } from './personal-data-of';
import { StreamMetrics } from './stream-metrics';
import { ENVIRONMENT, REDIS, SERVICE_NAME } from './tokens';

/** A Redis connection's outage and its end, in the service's log (see createRedisConnection). */
export function logRedisError(message: string): void {
  new Logger('Redis').warn(message);
}

@Global()
@Module({})
export class CoreModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisConnection) {}

  /** What every service shares: configuration, logging, one Redis connection, the event store and its pipeline, health. */
  static forRoot(env: Environment, service: ServiceName): DynamicModule {
    return {
      module: CoreModule,
      imports: [LoggingModule.forRoot(env, service), TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: ENVIRONMENT, useValue: env },
        { provide: SERVICE_NAME, useValue: service },
        { provide: REDIS, useFactory: () => createRedisConnection(env, { name: `${service}-commands`, log: logRedisError }) },
        { provide: KeyLayout, useValue: keyLayoutOf(env) },
        { provide: MissionStore, inject: [REDIS, KeyLayout], useFactory: (redis: RedisConnection, keys: KeyLayout) => new MissionStore(redis, keys) },
        {
          provide: ReadyQueue,
          inject: [REDIS, KeyLayout],
          useFactory: (redis: RedisConnection, keys: KeyLayout) => new ReadyQueue(redis, keys, queueOrderOf(env)),
        },
        {
          provide: MissionPipeline,
          inject: [MissionStore, ReadyQueue],
          useFactory: (store: MissionStore, queue: ReadyQueue) => new MissionPipeline(store, queue),
        },
        {
          // Every service seals or opens guest data somewhere (the intake at create and in responses,
          // the executor for the prompt and the result, the evaluator for the judge, deliveries).
          provide: MissionPersonalData,
          inject: [REDIS],
          useFactory: (redis: RedisConnection) => personalDataOf(redis, env),
        },
        ConsumerHealth,
        LogPartitionsGuard,
        MasterKeyGuard,
        { provide: MetricsRegistry, inject: [REDIS], useFactory: (redis: RedisConnection) => new MetricsRegistry(service, redis) },
        { provide: ServiceTracer, useValue: ServiceTracer.of(service, env) },
        {
          provide: StreamMetrics,
          inject: [MetricsRegistry, REDIS, KeyLayout],
          useFactory: (registry: MetricsRegistry, redis: RedisConnection, keys: KeyLayout) => new StreamMetrics(registry, redis, keys, service),
        },
      ],
      exports: [
        ENVIRONMENT,
        SERVICE_NAME,
        REDIS,
        KeyLayout,
        MissionStore,
        ReadyQueue,
        MissionPipeline,
        MissionPersonalData,
        ConsumerHealth,
        MetricsRegistry,
        ServiceTracer,
        StreamMetrics,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await closeConnection(this.redis).catch(() => undefined);
    // The spans of the last work would otherwise wait for the next export, which may never come.
    await flushTracingAtShutdown((message) => new Logger('Tracing').warn(message));
  }
}
