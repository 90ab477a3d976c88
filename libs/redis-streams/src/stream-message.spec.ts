import { DataTooDeepError } from './data-too-deep-error';
import { isPermanent } from './permanent-error';
import { decodeMessage, encodeMessage, MAX_MESSAGE_DEPTH } from './stream-message';
import { DataTooLargeError } from './unread-data-error';

describe('the stream message wire format', () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('given no trace context (tracing off, or work outside a trace), then a message is its pattern and data only', () => {
    expect(encodeMessage('mission.assigned', { a: 1 })).toEqual(['pattern', 'mission.assigned', 'data', '{"a":1}']);
    expect(encodeMessage('mission.assigned', { a: 1 }, {})).toEqual(['pattern', 'mission.assigned', 'data', '{"a":1}']);
  });

  it('given a trace context, then it travels as traceparent and tracestate fields and is read back', () => {
    const fields = encodeMessage('mission.assigned', { a: 1 }, { traceparent, tracestate: 'vendor=1' });

    expect(fields).toEqual(['pattern', 'mission.assigned', 'data', '{"a":1}', 'traceparent', traceparent, 'tracestate', 'vendor=1']);
    expect(decodeMessage('1-0', fields)).toEqual({ id: '1-0', pattern: 'mission.assigned', data: { a: 1 }, traceparent, tracestate: 'vendor=1' });
    expect(decodeMessage('1-0', ['pattern', 'p', 'data', '{}'])).toEqual({ id: '1-0', pattern: 'p', data: {} });
  });

  it('given data nested deeper than MAX_MESSAGE_DEPTH, then it is refused unparsed as a permanent failure that keeps the rest of the message', () => {
    const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    expect(decodeMessage('1-0', ['pattern', 'p', 'data', deep(MAX_MESSAGE_DEPTH)]).data).toBeDefined();
    let refusal: unknown;
    try {
      decodeMessage('1-0', ['pattern', 'p', 'data', deep(100_000), 'traceparent', traceparent]);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DataTooDeepError);
    expect(isPermanent(refusal)).toBe(true);
    expect(refusal).toMatchObject({ message: `data nests deeper than ${MAX_MESSAGE_DEPTH} levels`, envelope: { id: '1-0', pattern: 'p', traceparent } });
  });

  it('given data over its size limit from outside the services, then it is refused unscanned and unparsed, naming its size and the limit', () => {
    const limit = { bytes: 10, setting: 'BODY_LIMIT_BYTES' };
    // Not JSON, and nested deep: the size is checked first, so neither is found.
    const fields = ['pattern', 'p', 'data', '[[[[[[[[[[[é', 'traceparent', traceparent];
    expect(() => decodeMessage('1-0', fields, () => true, limit)).toThrow(DataTooLargeError);
    expect(() => decodeMessage('1-0', fields, () => true, limit)).toThrow('data is 13 bytes, over BODY_LIMIT_BYTES 10');
    expect(isPermanent(new DataTooLargeError({ id: '1-0', pattern: 'p' }, 13, limit))).toBe(true);
    // At the limit it is read; a message between the services is not measured.
    expect(decodeMessage('1-0', ['pattern', 'p', 'data', '"12345678"'], () => true, limit).data).toBe('12345678');
    expect(decodeMessage('1-0', ['pattern', 'p', 'data', '"123456789"'], () => false, limit).data).toBe('123456789');
  });
});
