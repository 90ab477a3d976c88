import { Logger } from '@nestjs/common';
import { context, propagation, ROOT_CONTEXT, Tracer } from '@opentelemetry/api';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
import { Environment, loadEnvironment, parseResourceAttributes } from '@app/config';
import { ExportFailureLog } from './export-failure-log';
import type * as TracingSdk from './tracing-sdk';

/** What tracing needs from the environment: the standard OTEL_* variables. */
export type TracingEnvironment = Pick<
  Environment,
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_PROTOCOL'
  | 'OTEL_SERVICE_NAME'
  | 'OTEL_RESOURCE_ATTRIBUTES'
  | 'OTEL_TRACES_SAMPLER'
  | 'OTEL_TRACES_SAMPLER_ARG'
  | 'OTEL_BSP_SCHEDULE_DELAY'
  | 'OTEL_BSP_EXPORT_TIMEOUT'
  | 'OTEL_BSP_MAX_QUEUE_SIZE'
  | 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'
>;

/** How long a stopping process waits for its last spans' export: a collector that does not answer must not hold a shutdown. */
export const SHUTDOWN_FLUSH_MS = 2_000;

interface ProcessTracing {
  sdk: typeof TracingSdk;
  /** One provider per `service.name`: the services of one process keep their own names. */
  providers: Map<string, TracerProvider>;
  env: TracingEnvironment;
  /** One for all the process' providers: the one-process start logs its failing exports once, not once per service. */
  exportFailures: ExportFailureLog;
  /** Undoes the HTTP and ioredis instrumentation; null until instrumentProcess ran. */
  uninstrument: (() => void) | null;
}

let tracing: ProcessTracing | null = null;

export function tracingConfigured(env: Pick<Environment, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'>): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/** Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`. */
export function tracesUrl(env: Pick<Environment, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'>): string {
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').replace(/\/+$/, '')}/v1/traces`;
}

/** The spans' `service.name`: OTEL_SERVICE_NAME, else the one in OTEL_RESOURCE_ATTRIBUTES, else `own` (the service's). */
function serviceNameOf(env: TracingEnvironment, own: string): string {
  return env.OTEL_SERVICE_NAME ?? parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES ?? '')['service.name'] ?? own;
}

/**
 * Whether this process traces. Everything on the message path asks this first, so that with no
 * collector configured nothing is allocated or looked up for tracing.
 */
export function tracingActive(): boolean {
  return tracing !== null;
}

function processTracing(env: TracingEnvironment): ProcessTracing {
  if (tracing) return tracing;
  // Required here, not imported: a process without an endpoint never loads the SDK, the exporters
  // or the instrumentations (10–35 MB of peak RSS per service); only @opentelemetry/api (~2 MB),
  // whose calls are no-ops until the SDK registers its globals.
  const sdk = require('./tracing-sdk') as typeof TracingSdk; // eslint-disable-line @typescript-eslint/no-require-imports
  // Global, like the ones the SDK's own start-up registers: instrumentations and the API read them.
  sdk.registerGlobals();
  tracing = { sdk, providers: new Map(), env, exportFailures: new ExportFailureLog(tracesUrl(env), new Logger('Tracing')), uninstrument: null };
  return tracing;
}

function providerFor(state: ProcessTracing, serviceName: string): TracerProvider {
  let provider = state.providers.get(serviceName);
  if (!provider) {
    provider = state.sdk.createProvider(state.env, serviceName, state.exportFailures);
    state.providers.set(serviceName, provider);
  }
  return provider;
}

/**
 * The tracer of one service, or null when no collector is configured. Its spans carry
 * `service.name` = serviceNameOf, the service's own name unless the environment names one, also
 * when several services share a process.
 */
export function serviceTracer(service: string, env: TracingEnvironment): Tracer | null {
  if (!tracingConfigured(env)) return null;
  return providerFor(processTracing(env), serviceNameOf(env, service)).getTracer(`brain-${service}`);
}

/**
 * Instruments the process' HTTP servers and clients (node:http and fetch) and its ioredis commands, under `label` (the
 * service, or `one-process` for the services of `npm start`). Call it before the services start;
 * does nothing when no collector is configured, or a second time. Redis commands and outgoing
 * requests are traced only inside a trace (a request, a message), so idle polls start none.
 */
export function instrumentProcess(label: string, env: TracingEnvironment): void {
  if (!tracingConfigured(env)) return;
  const state = processTracing(env);
  if (state.uninstrument) return;
  state.uninstrument = state.sdk.instrument(providerFor(state, serviceNameOf(env, label)));
  // The instrumentation patches a module when it is required. http and https are core modules that
  // may have loaded already (and Jest loads packages past the hook); requiring them again is what
  // patches them, in place, for every server and client of the process.
  for (const core of ['http', 'https']) require(core); // eslint-disable-line @typescript-eslint/no-require-imports
}

/**
 * instrumentProcess with the process' environment, for the first import of a `main.ts`: the
 * instrumentation patches http and ioredis as they load, so it must come before anything loads
 * them. An invalid environment is left to the service's own start, which names every problem.
 */
export function instrumentProcessFromEnvironment(label: string): void {
  let env: Environment;
  try {
    env = loadEnvironment(process.env);
  } catch {
    return;
  }
  instrumentProcess(label, env);
}

/**
 * The last flush of a stopping process: at most SHUTDOWN_FLUSH_MS, then the spans not exported yet
 * are given up with `warn`, so a collector that does not answer cannot hold the shutdown.
 */
export async function flushTracingAtShutdown(warn: (message: string) => void): Promise<void> {
  const flushed = Promise.all([...(tracing?.providers.values() ?? [])].map((provider) => provider.forceFlush())).then(
    () => true,
    () => false,
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_FLUSH_MS, false)));
  try {
    if (!(await Promise.race([flushed, late]))) {
      warn(`the last spans were not exported within ${SHUTDOWN_FLUSH_MS} ms of shutdown (the collector did not answer); they are dropped`);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Exports what is left, and ends tracing in this process (instrumentation removed). */
export async function stopTracing(): Promise<void> {
  const state = tracing;
  if (!state) return;
  tracing = null;
  state.uninstrument?.();
  await Promise.all([...state.providers.values()].map((provider) => provider.shutdown()));
  context.disable();
  propagation.disable();
}

/** Runs `work` outside any trace: background work must not join the trace of whatever message woke it. */
export function untraced<T>(work: () => T): T {
  return tracing ? context.with(ROOT_CONTEXT, work) : work();
}
