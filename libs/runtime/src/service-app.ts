import { Server } from 'node:http';
import { hostname } from 'node:os';
import { DynamicModule, INestApplication, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { ConfigError, Environment, EXIT_CONFIG, loadEnvironment } from '@app/config';
import { labelProcessLogs, QuietNestLogger } from '@app/logging';
import { ServiceName } from '@app/messages';
import { asRedisUnavailable, checkEvictionPolicy, createRedisConnection, EXIT_REDIS_UNAVAILABLE, RedisConnection, RedisTarget, waitForRedis } from '@app/redis';
import { DataLimit, RedisStreamsServer, StreamEvents } from '@app/redis-streams';
import { ServiceTracer } from '@app/tracing';
import { closeServiceApps } from './close-service-apps';
import { ConsumerHealth } from './consumer-health';
import { logRedisError } from './core.module';
import { checkDeploymentGuards } from './deployment-guards';
import { deferContinue } from './expect-continue';
import { limitHeapGrowth } from './heap-growth';
import { answerClientErrors } from './http-client-errors';
import { HttpDrain } from './http-drain';
import { keyLayoutOf } from './key-layout-of';
import { reportListening, stopWhenLauncherGoes } from './launcher-channel';
import { describeListenFailure } from './listen-failure';
import { checkLocalMasterKey } from './local-master-key-check';
import { httpMetricsMiddleware, MetricsRegistry } from './metrics';
import { handedPortVariable, PORT_VARIABLES, servicePorts } from './service-ports';
import { FAILED_START_CLOSE_MS, startBeforeServing } from './start-before-serving';
import { StreamMetrics } from './stream-metrics';
import { REDIS } from './tokens';
import { UnknownRouteFilter } from './unknown-route.filter';

/** How long a service (or the connector) that could not listen gets to close what runs before it exits anyway. */
const LISTEN_FAILURE_CLOSE_MS = 3_000;

export interface ServiceDefinition {
  name: ServiceName;
  /** Used when PORT is not set. */
  defaultPort: number;
  module: (env: Environment) => DynamicModule;
  /** Extra HTTP setup (the intake's API: validation, errors, OpenAPI). */
  configureHttp?: (app: INestApplication, env: Environment) => void;
  /** What the poison stream keeps of a failed message (RedisStreamsServerOptions.poisonFields). */
  poisonFields?: (fields: string[]) => string[];
  /**
   * The most a command sent from outside may hold (RedisStreamsServerOptions.maxOutsideDataBytes):
   * the intake's, whose stream takes missions as its REST API does. The other services take no such command.
   */
  outsideDataLimit?: (env: Environment) => DataLimit;
}

export function streamsServer(
  env: Environment,
  service: ServiceName,
  observers: { tracer?: ServiceTracer; events?: StreamEvents; poisonFields?: (fields: string[]) => string[]; maxOutsideDataBytes?: DataLimit } = {},
): RedisStreamsServer {
  const keys = keyLayoutOf(env);
  return new RedisStreamsServer({
    connect: (purpose) =>
      createRedisConnection(env, {
        name: `${service}-${purpose}`,
        blocking: purpose === 'reader',
        blockMs: purpose === 'reader' ? env.STREAM_BLOCK_MS : undefined,
        log: logRedisError,
      }),
    streams: keys.partitions.map((partition) => ({ stream: partition.stream(service), poisonStream: partition.poison(service) })),
    group: service,
    consumer: `${service}-${hostname()}-${process.pid}-${Date.now().toString(36)}`,
    batchSize: env.STREAM_BATCH_SIZE,
    blockMs: env.STREAM_BLOCK_MS,
    claimIdleMs: env.STREAM_CLAIM_IDLE_MS,
    maxDeliveries: env.STREAM_MAX_DELIVERIES,
    keepAcked: env.STREAM_KEEP_ACKED === 'true',
    poisonMaxLen: env.FAILED_STREAM_MAX_LEN,
    ...observers,
  });
}

/** Where the routes of a service without an API (health and metrics) are listed, for its 404. */
const SERVICE_ROUTES_DOCUMENTED = 'docs/operations.md, "Health, readiness and metrics"';

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
 * What every HTTP server of the system (the four services' and the Odoo connector's) does before
 * it serves: bounded connections and timeouts, the JSON error body for what Node's parser refuses,
 * and no `100 Continue` before a body is about to be read.
 */
export function guardHttpServer(server: Server, env: Environment): void {
  limitConnections(server, env);
  answerClientErrors(server, env);
  deferContinue(server);
}

/**
 * Builds a service: an HTTP app (health, metrics, the intake's API) with the stream consumer
 * attached. Tests call this directly; `runService` adds the process concerns.
 */
export async function createServiceApp(definition: ServiceDefinition, env: Environment, options: { shutdownHooks?: boolean } = {}): Promise<INestApplication> {
  // Before the build, which would generate a local master key useless for this prefix's data keys.
  await checkLocalMasterKey(env, definition.name);
  const root = definition.module(env);
  // HttpDrain in the root module, whose destroy hooks come first. Body parsing is each service's own
  // choice (the intake sets limits and content types).
  const app = await NestFactory.create(
    { ...root, providers: [...(root.providers ?? []), HttpDrain] },
    { bufferLogs: true, abortOnError: false, bodyParser: false },
  );
  app.useLogger(new QuietNestLogger(app.get(Logger)));
  // Exit 0 once the hooks have drained everything, instead of dying of the re-raised signal. Several
  // services in one process stop together instead (runServicesInOneProcess).
  if (options.shutdownHooks !== false) app.enableShutdownHooks([], { useProcessExit: true });
  guardHttpServer(app.getHttpServer() as Server, env);
  // First, so that it also times requests that a later middleware refuses (no key, too many failures).
  app.use(httpMetricsMiddleware(app.get(MetricsRegistry)));
  // The intake's API has its own error handling; the others answer only health and metrics.
  if (definition.configureHttp) definition.configureHttp(app, env);
  else app.useGlobalFilters(new UnknownRouteFilter(SERVICE_ROUTES_DOCUMENTED, app.getHttpAdapter()));
  const redisLog = new NestLogger('redis');
  await startBeforeServing(app, env, async () => {
    await checkDeploymentGuards(app);
    await checkEvictionPolicy(app.get<RedisConnection>(REDIS), { warn: (line) => redisLog.warn(line), info: (line) => redisLog.log(line) });
    const server = streamsServer(env, definition.name, {
      tracer: app.get(ServiceTracer),
      events: app.get(StreamMetrics),
      poisonFields: definition.poisonFields,
      maxOutsideDataBytes: definition.outsideDataLimit?.(env),
    });
    app.get(ConsumerHealth).track(server);
    // Not deferred: the microservice registers the stream handlers now and leaves the lifecycle hooks
    // to the app, so they run once. The handlers' PassThroughRpcFilter comes with @StreamConsumer().
    app.connectMicroservice({ strategy: server });
    // Creates the stream groups (XGROUP CREATE).
    await app.startAllMicroservices();
  });
  return app;
}

/** The `main.ts` of every service: validate the environment first, then start, then listen. */
export async function runService(definition: ServiceDefinition): Promise<void> {
  const env = environmentOrExit(definition.name, process.env);
  stopWhenLauncherGoes();
  await redisOrExit(definition.name, env);
  limitHeapGrowth(env.HEAP_GROWING_PERCENT);
  const port = env.PORT ?? definition.defaultPort;
  const app = await createServiceApp(definition, env).catch(exitOnStartFailure(definition.name, env));
  // The launcher hands each service PORT, but a person set ORCHESTRATOR_PORT (or PORT+1): PORT_VARIABLE names that one.
  await listenOrExit(definition.name, app, port, handedPortVariable(process.env), env.LISTEN_HOST, { listening: () => reportListening(definition.name) });
}

/**
 * Several services in this one process, still talking over Redis Streams, each with its own app,
 * HTTP port (servicePorts: PORT for the intake, ORCHESTRATOR_PORT, … or the next ports) and
 * connections: the same semantics as separate processes, without three more Node runtimes. On
 * SIGTERM or SIGINT they stop together (closeServiceApps).
 */
export async function runServicesInOneProcess(definitions: readonly ServiceDefinition[]): Promise<void> {
  let ports: Record<ServiceName, number>;
  try {
    ports = servicePorts(process.env);
  } catch (error) {
    process.stderr.write(`one-process: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT_CONFIG);
  }
  labelProcessLogs('one-process');
  const envs = definitions.map((definition) => environmentOrExit(definition.name, { ...process.env, PORT: String(ports[definition.name]) }));
  // Before the wait for Redis, which may be long: a launcher gone meanwhile is not seen afterwards.
  stopWhenLauncherGoes();
  // The services read the same Redis variables, so one wait covers all.
  await redisOrExit('one-process', envs[0]);
  // One heap for all: the services read the same variable, so any one's value is the process'.
  limitHeapGrowth(envs[0].HEAP_GROWING_PERCENT);
  const apps: INestApplication[] = [];
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`one-process: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`one-process: ${signal} received, stopping ${definitions.map((d) => d.name).join(', ')}\n`);
    process.exitCode = (await closeServiceApps(apps)) ? 0 : 1;
    process.exit();
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, (received) => void stop(received));
  for (const [i, definition] of definitions.entries()) {
    const app = await createServiceApp(definition, envs[i], { shutdownHooks: false }).catch(async (error: unknown) => {
      // The services started before this one (already listening) stop first, as when a port is taken.
      if (error instanceof ConfigError || asRedisUnavailable(error, envs[i])) await closeServiceApps(apps, FAILED_START_CLOSE_MS);
      return exitOnStartFailure(definition.name, envs[i])(error);
    });
    apps.push(app);
    // A service that cannot listen stops the ones already running too.
    await listenOrExit(definition.name, app, ports[definition.name], PORT_VARIABLES[definition.name], envs[i].LISTEN_HOST, {
      close: () => closeServiceApps(apps),
      listening: () => reportListening(definition.name),
    });
  }
}

function environmentOrExit(service: ServiceName, source: NodeJS.ProcessEnv): Environment {
  try {
    return loadEnvironment(source);
  } catch (error) {
    return exitOnConfigError(service)(error);
  }
}

/**
 * Waits for Redis (REDIS_STARTUP_TIMEOUT_MS) before any module uses it, so that an unreachable Redis
 * is one line and exit 69 instead of the clients' reconnect errors and then a crash.
 */
export async function redisOrExit(who: string, env: Environment): Promise<void> {
  try {
    await waitForRedis(env, { timeoutMs: env.REDIS_STARTUP_TIMEOUT_MS, log: (line) => process.stderr.write(`${who}: ${line}\n`) });
  } catch (error) {
    exitOnStartFailure(who, env)(error);
  }
}

/**
 * A start that failed on Redis unreachable (RedisUnavailableError: the wait for it at start, or a
 * start-up step's own reads, see readAtStart; or any error of the client's saying so,
 * asRedisUnavailable, which names `target`'s variable) or on its configuration: one line and exit
 * EXIT_REDIS_UNAVAILABLE (69), or as exitOnConfigError (78). Any other error, a command Redis
 * answered with an error among them, is thrown on.
 */
export function exitOnStartFailure(who: string, target: RedisTarget): (error: unknown) => never {
  return (error) => {
    const unavailable = asRedisUnavailable(error, target);
    if (!unavailable) return exitOnConfigError(who)(error);
    process.stderr.write(`${who}: ${unavailable.message}\n`);
    process.exit(EXIT_REDIS_UNAVAILABLE);
  };
}

/**
 * A ConfigError, whether from the environment or found while the service is built (API_KEYS) or
 * started (LOG_PARTITIONS against the one recorded, master keys against the stored data keys'):
 * its message and exit EXIT_CONFIG (78), no stack; any other
 * error is thrown on.
 */
export function exitOnConfigError(service: string): (error: unknown) => never {
  return (error) => {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  };
}

/** Listens on LISTEN_HOST when it is set, else on Node's default: every interface. */
export async function listenOn(app: INestApplication, port: number, host: string | undefined): Promise<void> {
  await (host === undefined ? app.listen(port) : app.listen(port, host));
}

/**
 * Listens (listenOn), or, when the port cannot be had (taken, no permission), writes one line
 * naming `portVariable`, the one to change, closes what already runs (`close`, by default the app:
 * stream consumers, pollers), bounded, and exits 1, instead of an unhandled rejection's stack. Then
 * the one start-up line at info (Nest's own are at debug, see QuietNestLogger), written once the
 * port is bound, and `listening` (the word to the launcher).
 */
export async function listenOrExit(
  who: string,
  app: INestApplication,
  port: number,
  portVariable: string,
  host: string | undefined,
  options: { close?: () => Promise<unknown>; listening?: () => void } = {},
): Promise<void> {
  try {
    await listenOn(app, port, host);
  } catch (error) {
    process.stderr.write(`${who}: ${describeListenFailure(port, error, portVariable, host)}\n`);
    // The stream consumers (the connector's pollers) already run; close them, bounded, so they leave nothing half-handled.
    setTimeout(() => process.exit(1), LISTEN_FAILURE_CLOSE_MS).unref();
    await (options.close ?? (() => app.close()))().catch(() => undefined);
    process.exit(1);
  }
  // The port bound, not the one asked for: PORT=0 takes any free port, and the log is where it shows.
  const bound = (app.getHttpServer() as Server).address();
  app.get(Logger).log(`${who} listening on port ${typeof bound === 'object' && bound !== null ? bound.port : port}`);
  options.listening?.();
}
