import { decodeMessage, encodeMessage } from './stream-message';

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
});
