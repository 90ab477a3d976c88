import { SpanKind } from '@opentelemetry/api';
import { loadEnvironment } from '@app/config';
import { serviceTracer, stopTracing, tracingActive } from './process-tracing';
import { ServiceTracer } from './service-tracer';
import { currentTraceCarrier, traceLogFields } from './trace-context';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

describe('trace context', () => {
  afterAll(async () => {
    await stopTracing();
  });

  it('given no collector configured, then nothing is traced: no tracer, no context to carry, no log fields', async () => {
    expect(serviceTracer('intake', loadEnvironment({}))).toBeNull();
    const tracer = ServiceTracer.of('intake', loadEnvironment({}));
    expect(tracer.enabled).toBe(false);
    await tracer.inSpan('x', null, SpanKind.INTERNAL, {}, async () => {
      expect(currentTraceCarrier()).toBeUndefined();
      expect(traceLogFields()).toEqual({});
    });
    expect(tracingActive()).toBe(false);
  });

  it('given a collector, then work in a span carries its traceparent, a span continued from it shares the trace, and log lines name it', async () => {
    // Sampled out: the context still travels (flag 00), and nothing is sent to the unreachable collector.
    const env = loadEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_TRACES_SAMPLER: 'always_off' });
    const intake = ServiceTracer.of('intake', env);
    const executor = ServiceTracer.of('executor', env);
    expect(intake.enabled).toBe(true);

    const carried = await intake.inSpan('create', null, SpanKind.SERVER, {}, async () => {
      const carrier = currentTraceCarrier();
      expect(carrier?.traceparent).toMatch(TRACEPARENT);
      const [, traceId, spanId] = TRACEPARENT.exec(carrier?.traceparent ?? '') ?? [];
      expect(traceLogFields()).toEqual({ trace_id: traceId, span_id: spanId, trace_flags: '00' });
      return carrier ?? {};
    });
    const continued = await executor.processMessage({ id: '1-0', pattern: 'mission.assigned', ...carried }, 's', 'g', 1, async () => currentTraceCarrier());

    const traceIdOf = (traceparent?: string) => TRACEPARENT.exec(traceparent ?? '')?.[1];
    expect(traceIdOf(continued?.traceparent)).toBe(traceIdOf(carried.traceparent));
    expect(continued?.traceparent).not.toBe(carried.traceparent);
    // Outside any span there is nothing to carry.
    expect(currentTraceCarrier()).toBeUndefined();
  });
});
