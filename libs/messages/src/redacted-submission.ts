import { CORRELATION_ID_PATTERN, isPlainObject, REDACTED_MARKER, redactedCreateBody } from '@app/mission';
import { MISSION_ID, SUBMIT_FIELDS } from './message-checks';

/**
 * A `mission.submit` command's data as the intake may keep it in plain (refused, or poisoned): the
 * mission as redactedCreateBody keeps it, the ids when they are ids, and REDACTED_MARKER for
 * anything else (data that is no object, a property the command does not declare, an id that is no
 * id), which may hold a guest's data the intake never sealed. The sender still sees which of its
 * submissions it was and why (the Odoo connector reads the mission's source, type and skills).
 */
export function redactedSubmission(data: unknown): unknown {
  if (!isPlainObject(data)) return REDACTED_MARKER;
  const kept = (key: string, value: unknown): unknown => {
    if (!SUBMIT_FIELDS.has(key)) return REDACTED_MARKER;
    if (key === 'mission') return redactedCreateBody(value);
    if (key === 'missionId') return typeof value === 'string' && MISSION_ID.test(value) ? value : REDACTED_MARKER;
    // idempotencyKey, correlationId: one with an `@` may be an e-mail address, refused or not.
    return typeof value === 'string' && CORRELATION_ID_PATTERN.test(value) ? value : REDACTED_MARKER;
  };
  // fromEntries defines each property, so a "__proto__" key stays a key.
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, kept(key, value)]));
}
