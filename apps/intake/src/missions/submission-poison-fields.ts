import { redactedSubmission } from '@app/messages';
import { REDACTED_MARKER } from '@app/mission';

/**
 * The fields of a submission the poison stream keeps as sent: the handler it named and the trace
 * context of its sender's work (stream-message.ts), none of them the guest's. Any other field may
 * be anything a sender wrote (its data under another name: `payload` in place of `data`), and the
 * poison stream is out of reach of erasure and retention, so its value is not kept.
 */
const KEPT_AS_SENT: ReadonlySet<string> = new Set(['pattern', 'traceparent', 'tracestate']);

/**
 * What the poison stream keeps of a submission the intake failed to take (a non-refusal error,
 * STREAM_MAX_DELIVERIES times, or a malformed message): `data` as redactedSubmission keeps it, as
 * a refused submission is kept, the fields of KEPT_AS_SENT as they are, and every other field's
 * value as the marker alone. It never got a subject's key, and the poison stream keeps it until it
 * is trimmed (FAILED_STREAM_MAX_LEN) or someone deletes it. A `data` that is not JSON is kept as
 * the marker alone.
 */
export function submissionPoisonFields(fields: string[]): string[] {
  return fields.map((value, i) => {
    if (i % 2 === 0) return value;
    const name = fields[i - 1];
    if (name === 'data') return redactedData(value);
    return KEPT_AS_SENT.has(name) ? value : REDACTED_MARKER;
  });
}

function redactedData(raw: string): string {
  let data: unknown;
  try {
    data = JSON.parse(raw) as unknown;
  } catch {
    return JSON.stringify(REDACTED_MARKER);
  }
  return JSON.stringify(redactedSubmission(data));
}
