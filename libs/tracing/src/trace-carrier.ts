/**
 * The W3C trace context (https://www.w3.org/TR/trace-context/) of a piece of work, as it travels
 * with a stream message: the `traceparent` and `tracestate` fields beside `pattern` and `data`.
 */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}
