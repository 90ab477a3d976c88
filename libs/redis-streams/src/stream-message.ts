import { jsonTextNestsDeeperThan } from '@app/mission';
import { TraceCarrier } from '@app/tracing';
import { DataTooDeepError } from './data-too-deep-error';
import { MalformedMessageError } from './malformed-message-error';
import { DataLimit, DataTooLargeError } from './unread-data-error';

/**
 * Levels of arrays and objects the data of a message from outside the services may nest (a
 * handler registered with TAKES_REFUSED_DATA: the intake's submissions): far more than any
 * message holds (a mission's payload nests at most 8 levels, under 2 of the message), far less
 * than the few thousand at which JSON.stringify or a recursive check overflows the stack. Such a
 * message nested deeper is refused before it is parsed: a RangeError from its handler was taken
 * for a passing failure, retried, and thrown again while it was being poisoned, which stopped the
 * process.
 */
export const MAX_MESSAGE_DEPTH = 256;

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

export function encodeMessage(pattern: string, data: unknown, trace?: TraceCarrier): string[] {
  const fields = ['pattern', pattern, 'data', JSON.stringify(data ?? null)];
  if (trace?.traceparent) fields.push('traceparent', trace.traceparent);
  if (trace?.traceparent && trace.tracestate) fields.push('tracestate', trace.tracestate);
  return fields;
}

/** The reason a handler that takes refused data (TAKES_REFUSED_DATA) is given for data whose bytes are not UTF-8. */
export const DATA_NOT_UTF8 = 'data is not valid UTF-8';

/** The value of the field `name` in a stream entry's fields (name, value, name, value, …), as strings or as bytes. */
export function fieldValue<T extends string | Buffer>(fields: readonly T[], name: string): T | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i].toString() === name) return fields[i + 1];
  return undefined;
}

/**
 * The message in `fields`. Its data's size (against `maxDataBytes`, when given) and then its depth
 * are checked before it is parsed only where `fromOutside` says so for its pattern: the depth scan
 * costs about half a parse, and the messages the services send one another (every hop of every
 * mission) are neither large nor nested deep. Data over the size is refused unscanned and unparsed
 * (DataTooLargeError): 40 MiB of it used to be parsed whole, and copied whole by its handler.
 */
export function decodeMessage(id: string, fields: string[], fromOutside: (pattern: string) => boolean = () => true, maxDataBytes?: DataLimit): StreamMessage {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i], fields[i + 1]);
  const pattern = values.get('pattern');
  if (!pattern) throw new MalformedMessageError('message has no pattern field');
  const raw = values.get('data');
  if (raw === undefined) throw new MalformedMessageError('message has no data field');
  const traceparent = values.get('traceparent');
  const tracestate = values.get('tracestate');
  if (fromOutside(pattern)) {
    // Counted without copying it: no allocation, one pass.
    const size = maxDataBytes ? Buffer.byteLength(raw) : 0;
    if (maxDataBytes && size > maxDataBytes.bytes) throw new DataTooLargeError({ id, pattern, traceparent, tracestate }, size, maxDataBytes);
    if (jsonTextNestsDeeperThan(raw, MAX_MESSAGE_DEPTH)) throw new DataTooDeepError({ id, pattern, traceparent, tracestate }, MAX_MESSAGE_DEPTH);
  }
  let data: unknown;
  try {
    data = JSON.parse(raw) as unknown;
  } catch {
    throw new MalformedMessageError(`data is not JSON (${raw.length} bytes)`);
  }
  return { id, pattern, data, traceparent, tracestate };
}
