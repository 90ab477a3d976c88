import { Server } from 'node:http';
import { hostname } from 'node:os';
import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { QuietNestLogger } from '@app/logging';
import { ConfigError, Environment, loadEnvironment } from '@app/config';
import { ServiceName } from '@app/messages';
import { createRedisConnection } from '@app/redis';
import { PassThroughRpcFilter, RedisStreamsServer } from '@app/redis-streams';
import { ConsumerHealth } from './consumer-health';
import { keyLayoutOf } from './key-layout-of';
import { describeListenFailure } from './listen-failure';
import { httpMetricsMiddleware, MetricsRegistry } from './metrics';

/** How long a service that could not listen gets to close its consumer before it exits anyway. */
const LISTEN_FAILURE_CLOSE_MS = 3_000;

export interface ServiceDefinition {
  name: ServiceName;
  /** Used when PORT is not set. */
  defaultPort: number;
  module: (env: Environment) => DynamicModule;
  /** Extra HTTP setup (the intake's API: validation, errors, OpenAPI). */
  configureHttp?: (app: INestApplication, env: Environment) => void;
}

export function streamsServer(env: Environment, service: ServiceName): RedisStreamsServer {
  const keys = keyLayoutOf(env);
  return new RedisStreamsServer({
    connect: (purpose) => createRedisConnection(env, { name: `${service}-${purpose}`, blocking: purpose === 'reader' }),
    streams: keys.partitions.map((partition) => ({ stream: partition.stream(service), poisonStream: partition.poison(service) })),
    group: service,
    consumer: `${service}-${hostname()}-${process.pid}-${Date.now().toString(36)}`,
    batchSize: env.STREAM_BATCH_SIZE,
    blockMs: env.STREAM_BLOCK_MS,
    claimIdleMs: env.STREAM_CLAIM_IDLE_MS,
    maxDeliveries: env.STREAM_MAX_DELIVERIES,
    keepAcked: env.STREAM_KEEP_ACKED === 'true',
  });
}

const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

/**
 * Slow or idle clients must not hold connections: without these, ~1,100 connections that never
 * finished their headers exhausted the process' file descriptors and every valid request failed.
 * Node enforces the headers and request timeouts on a timer (every 30 s by default), which would
 * let a slow client hold on that much longer, so it runs every second.
 */
function limitConnections(server: Server, env: Environment): void {
  server.headersTimeout = env.HTTP_HEADERS_TIMEOUT_MS;
  server.requestTimeout = env.HTTP_REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = env.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = env.HTTP_MAX_CONNECTIONS;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = CONNECTIONS_CHECKING_INTERVAL_MS;
}

/**
 * Builds a service: an HTTP app (health, metrics, the intake's API) with the stream consumer
 * attached. Tests call this directly; `runService` adds the process concerns.
 */
export async function createServiceApp(definition: ServiceDefinition, env: Environment): Promise<INestApplication> {
  // Body parsing is each service's own choice (the intake sets limits and content types).
  const app = await NestFactory.create(definition.module(env), { bufferLogs: true, abortOnError: false, bodyParser: false });
  app.useLogger(new QuietNestLogger(app.get(Logger)));
  // Exit 0 once the hooks have drained everything, instead of dying of the re-raised signal.
  app.enableShutdownHooks([], { useProcessExit: true });
  limitConnections(app.getHttpServer() as Server, env);
  // First, so that it also times requests that a later middleware refuses (415, 413, bad JSON).
  app.use(httpMetricsMiddleware(app.get(MetricsRegistry)));
  definition.configureHttp?.(app, env);
  const server = streamsServer(env, definition.name);
  app.get(ConsumerHealth).track(server);
  // Deferred, so the filter is in place before the handlers are wrapped. The app runs the
  // lifecycle hooks; without this mark the deferred microservice would run them a second time.
  const microservice = app.connectMicroservice({ strategy: server }, { deferInitialization: true });
  microservice.useGlobalFilters(new PassThroughRpcFilter());
  (microservice as unknown as { setIsInitHookCalled(called: boolean): void }).setIsInitHookCalled(true);
  await app.startAllMicroservices();
  return app;
}

/** The `main.ts` of every service: validate the environment first, then start, then listen. */
export async function runService(definition: ServiceDefinition): Promise<void> {
  let env: Environment;
  try {
    env = loadEnvironment();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${definition.name}: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const port = env.PORT ?? definition.defaultPort;
  const app = await createServiceApp(definition, env);
  try {
    await app.listen(port);
  } catch (error) {
    process.stderr.write(`${definition.name}: ${describeListenFailure(port, error)}\n`);
    // The stream consumer already runs; close it (bounded) so it leaves nothing half-handled.
    setTimeout(() => process.exit(1), LISTEN_FAILURE_CLOSE_MS).unref();
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  // The one start-up line at info (Nest's own are at debug, see QuietNestLogger), written once the port is bound.
  app.get(Logger).log(`${definition.name} listening on port ${port}`);
}
