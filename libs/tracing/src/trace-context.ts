import { context, defaultTextMapGetter, defaultTextMapSetter, isSpanContextValid, propagation, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { AttributeValue, Context, Span } from '@opentelemetry/api';
import { tracingActive } from './process-tracing';
import { TraceCarrier } from './trace-carrier';

/** The trace context of the work in progress, to write into a message; undefined outside a trace or with tracing off. */
export function currentTraceCarrier(): TraceCarrier | undefined {
  if (!tracingActive()) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier, defaultTextMapSetter);
  return carrier.traceparent ? carrier : undefined;
}

/** The context a message's trace fields continue (the root context when it carries none). */
export function contextFrom(carrier: TraceCarrier): Context {
  return carrier.traceparent ? propagation.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter) : ROOT_CONTEXT;
}

/** Sets an attribute on the span of the work in progress (to find it by, e.g. a mission id); nothing with tracing off. */
export function annotateSpan(key: string, value: AttributeValue): void {
  if (!tracingActive()) return;
  trace.getActiveSpan()?.setAttribute(key, value);
}

/** Marks the span of the work in progress as failed with `error`; nothing with tracing off. */
export function markSpanFailed(error: unknown): void {
  if (!tracingActive()) return;
  const span = trace.getActiveSpan();
  if (span) failSpan(span, error);
}

/**
 * Marks the span of the work in progress as failed without an exception (a client span whose
 * server answered 4xx or 5xx, as the HTTP conventions ask); nothing with tracing off.
 */
export function markSpanError(description: string): void {
  if (!tracingActive()) return;
  trace.getActiveSpan()?.setStatus({ code: SpanStatusCode.ERROR, message: description });
}

export function failSpan(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.recordException(error instanceof Error ? error : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/**
 * pino's mixin (installed only with tracing on): the trace and span id (names as in the
 * OpenTelemetry log data model) of the work a log line belongs to, so a log line leads to its
 * trace and back. A new object each time: pino merges the line's own fields into it.
 */
export function traceLogFields(): Record<string, string> {
  if (!tracingActive()) return {};
  const span = trace.getActiveSpan();
  if (!span) return {};
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: `0${spanContext.traceFlags.toString(16)}` };
}
