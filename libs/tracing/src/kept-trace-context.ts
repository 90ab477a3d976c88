import { ServiceTracer } from './service-tracer';

/**
 * Tracing for work that is found by an id rather than handed over in a message (a webhook
 * delivery, an Odoo write-back): it continues the trace context kept with what the id names (a
 * mission's hash keeps the traceparent of its last traced append, field `tp`).
 */
export interface KeptTraceContext {
  tracer: ServiceTracer;
  /** The traceparent kept for each id, null where there is none, in the order of `ids`. */
  traceParents: (ids: readonly string[]) => Promise<(string | null)[]>;
}
