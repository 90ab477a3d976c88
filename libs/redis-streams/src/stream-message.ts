/**
 * The wire format of a message on a service stream: two fields, `pattern` (the handler to run)
 * and `data` (JSON). Anything in any language can XADD one:
 *   XADD <stream> * pattern mission.submit data '{"type":"maintenance",...}'
 */
export interface StreamMessage {
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

export function encodeMessage(pattern: string, data: unknown): string[] {
  return ['pattern', pattern, 'data', JSON.stringify(data ?? null)];
}

export function decodeMessage(id: string, fields: string[]): StreamMessage {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i], fields[i + 1]);
  const pattern = values.get('pattern');
  if (!pattern) throw new MalformedMessageError('message has no pattern field');
  const raw = values.get('data');
  if (raw === undefined) throw new MalformedMessageError('message has no data field');
  try {
    return { id, pattern, data: JSON.parse(raw) as unknown };
  } catch {
    throw new MalformedMessageError(`data is not JSON (${raw.length} bytes)`);
  }
}
