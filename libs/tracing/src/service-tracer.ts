import { Attributes, context, SpanKind, Tracer } from '@opentelemetry/api';
import { Environment } from '@app/config';
import { serviceTracer } from './process-tracing';
import { TraceCarrier } from './trace-carrier';
import { contextFrom, failSpan } from './trace-context';

/** A stream message as the tracer needs it. */
export interface TracedMessage extends TraceCarrier {
  id: string;
  pattern: string;
}

/**
 * One service's spans: the ones it makes itself (each handled stream message, each LLM call, each
 * assignment). `enabled` is false when no collector is configured; callers test it before they
 * build anything for a span, so the untraced path allocates nothing.
 */
export class ServiceTracer {
  constructor(private readonly tracer: Tracer | null) {}

  static of(service: string, env: Environment): ServiceTracer {
    return new ServiceTracer(serviceTracer(service, env));
  }

  get enabled(): boolean {
    return this.tracer !== null;
  }

  /**
   * Handles a message in a consumer span that continues the trace its producer wrote into it
   * (OpenTelemetry's messaging conventions: `<operation> <destination>`, kind CONSUMER).
   */
  processMessage<T>(message: TracedMessage, stream: string, group: string, deliveries: number, work: () => Promise<T>): Promise<T> {
    return this.inSpan(
      `process ${message.pattern}`,
      message,
      SpanKind.CONSUMER,
      {
        'messaging.system': 'redis',
        'messaging.operation.type': 'process',
        'messaging.destination.name': stream,
        'messaging.consumer.group.name': group,
        'messaging.message.id': message.id,
        'brain.message.pattern': message.pattern,
        'brain.message.deliveries': deliveries,
      },
      work,
    );
  }

  /**
   * `work` in a span named `name`: a child of the trace context `parent` (a message's, or one
   * stored with a mission; none there starts a trace), or with `parent` null, of the work in progress.
   */
  inSpan<T>(name: string, parent: TraceCarrier | null, kind: SpanKind, attributes: Attributes, work: () => Promise<T>): Promise<T> {
    const tracer = this.tracer;
    if (!tracer) return work();
    return tracer.startActiveSpan(name, { kind, attributes }, parent ? contextFrom(parent) : context.active(), async (span) => {
      try {
        return await work();
      } catch (error) {
        failSpan(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }
}
