import { guestIsNoObject, guestSubjectOf, isSubjectId, namesGuestId } from './data-subject';
import { isPlainObject } from './field-problems';
import { MISSION_CREATE_FIELDS } from './mission-create.check';
import { PathValue, PERSONAL_FIELDS, REDACTED_MARKER, valueAt, withValues } from './personal-fields';

/** Every input path any type declares personal: a refused body's type may be unknown, or wrong. */
const ANY_PERSONAL_INPUT = [...new Set(Object.values(PERSONAL_FIELDS).flatMap((fields) => fields.input))];

/**
 * A create body that may be invalid (of an unknown type, of the wrong shape), as it may be kept in
 * plain (a refused or poisoned submission, which never got a subject's key): every field any type
 * declares personal reads REDACTED_MARKER, and so does whatever the body holds where a valid one
 * holds no personal data: a property it does not declare (a misspelt `descripton`), a payload or
 * source that is no object, a payload `guest` that is no object (a name, a list of guests), a subject or guest id that is no opaque id (an e-mail address is refused
 * as one, and would stay). What is kept is what a stored mission keeps in plain: type, title,
 * routing fields, ids and the payload's other fields.
 */
export function redactedCreateBody(body: unknown): unknown {
  if (body === undefined || body === null) return body;
  if (!isPlainObject(body)) return REDACTED_MARKER;
  // fromEntries defines each property, so a "__proto__" key stays a key.
  const kept: Record<string, unknown> = Object.fromEntries(
    Object.entries(body).map(([key, value]) => [key, MISSION_CREATE_FIELDS.has(key) ? value : REDACTED_MARKER]),
  );
  for (const key of ['payload', 'source'] as const) {
    if (kept[key] !== undefined && kept[key] !== null && !isPlainObject(kept[key])) kept[key] = REDACTED_MARKER;
  }
  const { subjects } = kept;
  if (subjects !== undefined && subjects !== null) {
    kept.subjects = Array.isArray(subjects) ? subjects.map((subject) => (isSubjectId(subject) ? subject : REDACTED_MARKER)) : REDACTED_MARKER;
  }
  const redacted: PathValue[] = ANY_PERSONAL_INPUT.filter((path) => {
    const value = valueAt(kept, path);
    return value !== undefined && value !== null && value !== '';
  }).map((path) => ({ path, value: REDACTED_MARKER }));
  if (namesGuestId(kept.payload) && guestSubjectOf(kept.payload) === null) redacted.push({ path: 'payload.guest.id', value: REDACTED_MARKER });
  if (guestIsNoObject(kept.payload)) redacted.push({ path: 'payload.guest', value: REDACTED_MARKER });
  return withValues(kept, redacted);
}
