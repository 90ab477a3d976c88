import { context, ROOT_CONTEXT, Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ReadableSpan, SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import IORedis from 'ioredis';
import { RedisConnection } from '@app/redis';
import { testKeyPrefix, testRedisConnection } from '@app/testing';
import { ContextKeepingIORedisInstrumentation } from './context-keeping-ioredis-instrumentation';

/** Keeps every ended span, as a collector would receive it. */
class EndedSpans implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

describe('ContextKeepingIORedisInstrumentation', () => {
  const ended = new EndedSpans();
  const provider = new TracerProvider({ spanProcessors: [ended] });
  const tracer = provider.getTracer('spec');
  const instrumentation = new ContextKeepingIORedisInstrumentation({
    enabled: false,
    requireParentSpan: true,
    dbStatementSerializer: (name, args) => `${name} ${String(args[0])}`,
  });
  const [ioredisModule] = instrumentation.getModuleDefinitions();
  const prefix = testKeyPrefix('redis-span-context');
  let redis: RedisConnection;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    instrumentation.setTracerProvider(provider);
    // What the instrumentation does when the process requires ioredis (Jest's loader passes its hook by).
    ioredisModule.patch?.(IORedis);
    redis = testRedisConnection('redis-span-context');
    await redis.ping();
  });

  afterAll(async () => {
    redis.disconnect();
    ioredisModule.unpatch?.(IORedis);
    context.disable();
    await provider.shutdown();
  });

  const inSpan = <T>(span: Span, work: () => T): T => context.with(trace.setSpan(context.active(), span), work);
  const spanOf = (key: string) => ended.spans.find((span) => span.attributes['db.query.text'] === `get ${prefix}${key}`);

  it('given commands of two requests and of untraced work issued in one tick on an auto-pipelined connection, then each request traces its own command and the untraced work none', async () => {
    const first = tracer.startSpan('first request');
    const second = tracer.startSpan('second request');

    await Promise.all([
      // Issued first, it would have sent the whole pipeline in its own, untraced context.
      context.with(ROOT_CONTEXT, () => redis.get(`${prefix}untraced`)),
      inSpan(first, () => redis.get(`${prefix}first`)),
      inSpan(second, () => redis.get(`${prefix}second`)),
    ]);
    await Promise.all([inSpan(second, () => redis.get(`${prefix}second-again`)), inSpan(first, () => redis.get(`${prefix}first-again`))]);

    const parentOf = (key: string) => spanOf(key)?.parentSpanContext?.spanId;
    expect(parentOf('first')).toBe(first.spanContext().spanId);
    expect(parentOf('second')).toBe(second.spanContext().spanId);
    // Before, the later command was traced as a child of whichever request's command went first.
    expect(parentOf('first-again')).toBe(first.spanContext().spanId);
    expect(parentOf('second-again')).toBe(second.spanContext().spanId);
    expect(spanOf('untraced')).toBeUndefined();
  });

  it("given twenty requests each issuing a command in one tick, then each command is traced in its own request's trace", async () => {
    const requests = Array.from({ length: 20 }, (_, i) => ({ key: `burst-${i}`, span: tracer.startSpan(`request ${i}`) }));
    await Promise.all(requests.map(({ key, span }) => inSpan(span, () => redis.get(`${prefix}${key}`))));
    expect(requests.map(({ key }) => spanOf(key)?.spanContext().traceId)).toEqual(requests.map(({ span }) => span.spanContext().traceId));
  });
});
