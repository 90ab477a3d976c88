import { IncomingMessage, ServerResponse } from 'node:http';
import { Attributes, context, propagation, Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { parseResourceAttributes } from '@app/config';
import { ContextKeepingIORedisInstrumentation } from './context-keeping-ioredis-instrumentation';
import { createSampler } from './create-sampler';
import { ExportFailureLog } from './export-failure-log';
import { TracingEnvironment, tracesUrl } from './process-tracing';
import { ReportingSpanExporter } from './reporting-span-exporter';
import { requestRoute } from './request-route';

/*
 * Everything of OpenTelemetry beyond its API: the SDK, the exporters and the instrumentations.
 * process-tracing.ts requires this file only once an endpoint is set, so a process without one
 * never loads these modules (they cost 10–35 MB of peak RSS per service). Import nothing from here
 * elsewhere but types.
 */

/** HTTP requests that are no one's work: probes and scrapes would each start a trace. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|\?|$)/;

/** What an incoming request's span shows as its path until its route is known, and for good when no route takes it. */
const UNMATCHED_PATH = '(no route)';

/*
 * An incoming request's span names its route, not its path, and its query's names, not their
 * values: a path's segments and a query's values may be a guest's e-mail address or name (a subject
 * id mistyped as one, a title searched for), a stream token too, which the API itself never quotes
 * back nor logs. The instrumentation records both as sent (`url.path`, `url.query`): the span
 * starts with these instead (they win over its own), and takes the route once the response ends,
 * as `http.route` and in its name, as the semantic conventions do where the route is known: the
 * route it matched, or the one that would have taken a request refused before routing (a 401),
 * the same route its metric is labelled with.
 */

/** The span's start attributes that replace the path and the query's values. */
function requestAttributesWithoutValues(request: IncomingMessage): Attributes {
  const query = (request.url ?? '').split('?')[1];
  if (!query) return { 'url.path': UNMATCHED_PATH };
  const names = [...new URLSearchParams(query).keys()].map((name) => `${encodeURIComponent(name)}=REDACTED`);
  return { 'url.path': UNMATCHED_PATH, 'url.query': names.join('&') };
}

/** Names the request's route on its span, once the response ends. */
function nameRoute(span: Span, request: IncomingMessage): void {
  const template = requestRoute(request);
  if (template === undefined) return;
  span.setAttributes({ 'http.route': template, 'url.path': template }).updateName(`${request.method ?? 'GET'} ${template}`);
}

/** Registers the global context manager and W3C propagator that the API and the instrumentations read. */
export function registerGlobals(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

/**
 * A provider whose spans carry `service.name` = `serviceName` and OTEL_RESOURCE_ATTRIBUTES, exported
 * in batches (OTEL_BSP_*) to tracesUrl, each batch's failure or success told to `exportFailures`.
 */
export function createProvider(env: TracingEnvironment, serviceName: string, exportFailures: ExportFailureLog): TracerProvider {
  const url = tracesUrl(env);
  const otlp = env.OTEL_EXPORTER_OTLP_PROTOCOL === 'http/json' ? new JsonTraceExporter({ url }) : new ProtobufTraceExporter({ url });
  const exporter = new ReportingSpanExporter(otlp, exportFailures);
  const attributes = { ...parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES ?? ''), [ATTR_SERVICE_NAME]: serviceName };
  return new TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes(attributes)),
    sampler: createSampler(env),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY,
        exportTimeoutMillis: env.OTEL_BSP_EXPORT_TIMEOUT,
        maxQueueSize: env.OTEL_BSP_MAX_QUEUE_SIZE,
        maxExportBatchSize: env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
      }),
    ],
  });
}

/** Instruments node:http, fetch and ioredis with spans of `provider`; returns what undoes it. */
export function instrument(provider: TracerProvider): () => void {
  return registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
        // A webhook delivery (it carries `webhook-id`) has its own client span, made by the
        // dispatcher with the query values of its URL redacted; this one would carry the URL as is.
        ignoreOutgoingRequestHook: ({ headers }) => headers !== undefined && !Array.isArray(headers) && 'webhook-id' in headers,
        requireParentforOutgoingSpans: true,
        startIncomingSpanHook: requestAttributesWithoutValues,
        applyCustomAttributesOnSpan: (span, request, response) => {
          if (request instanceof IncomingMessage && response instanceof ServerResponse) nameRoute(span, request);
        },
      }),
      // The command's name only: its default text holds a script's arguments whole, which carry
      // webhook secrets, subscription URLs and event JSON.
      new ContextKeepingIORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
      // fetch (the OpenAI client's, the Odoo connector's): a client span, and traceparent on the request.
      new UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
}
