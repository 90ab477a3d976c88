import { TraceCarrier } from '@app/tracing';

/**
 * The wire format of a message on a service stream: two fields, `pattern` (the handler to run)
 * and `data` (JSON), and, when it was written inside a trace, the W3C trace context of that work
 * (`traceparent`, `tracestate`), so the consumer's work continues the same trace. Anything in any
 * language can XADD one:
 *   XADD <stream> * pattern mission.submit data '{"type":"maintenance",...}' [traceparent 00-…-01]
 */
export interface StreamMessage extends TraceCarrier {
  id: string;
  pattern: string;
  data: unknown;
}

export class MalformedMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedMessageError';
  }
}

export function encodeMessage(pattern: string, data: unknown, trace?: TraceCarrier): string[] {
  const fields = ['pattern', pattern, 'data', JSON.stringify(data ?? null)];
  if (trace?.traceparent) fields.push('traceparent', trace.traceparent);
  if (trace?.traceparent && trace.tracestate) fields.push('tracestate', trace.tracestate);
  return fields;
}

export function decodeMessage(id: string, fields: string[]): StreamMessage {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i], fields[i + 1]);
  const pattern = values.get('pattern');
  if (!pattern) throw new MalformedMessageError('message has no pattern field');
  const raw = values.get('data');
  if (raw === undefined) throw new MalformedMessageError('message has no data field');
  let data: unknown;
  try {
    data = JSON.parse(raw) as unknown;
  } catch {
    throw new MalformedMessageError(`data is not JSON (${raw.length} bytes)`);
  }
  return { id, pattern, data, traceparent: values.get('traceparent'), tracestate: values.get('tracestate') };
}
