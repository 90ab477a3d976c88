import { redactedSubmission } from '@app/messages';
import { REDACTED_MARKER } from '@app/mission';

/**
 * What the poison stream keeps of a submission the intake failed to take (a non-refusal error,
 * STREAM_MAX_DELIVERIES times): its fields with `data` as redactedSubmission keeps it, as a refused
 * submission is kept. It never got a subject's key, and the poison
 * stream keeps it until it is trimmed (FAILED_STREAM_MAX_LEN) or someone deletes it. A `data` that
 * is not JSON is kept as the marker alone.
 */
export function submissionPoisonFields(fields: string[]): string[] {
  return fields.map((value, i) => (i % 2 === 1 && fields[i - 1] === 'data' ? redactedData(value) : value));
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
