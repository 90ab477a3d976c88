import { isPlainObject } from './field-problems';
import { MissionCreateDto } from './mission-create.dto';
import { Mission } from './mission-state';
import { PERSONAL_FIELDS, personalValues } from './personal-fields';

/**
 * A data subject's id: opaque, never personal data itself. No `@` and no spaces, so an e-mail
 * address or a name is refused instead of becoming a Redis key, a hash field or an event field.
 */
export const SUBJECT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const SUBJECT_MESSAGE =
  'each subject must be an opaque id: a letter or digit, then letters, digits and . _ : - (at most 128 characters); no @, so not an e-mail address or a name';
export const MAX_SUBJECTS = 10;

export function isSubjectId(value: unknown): value is string {
  return typeof value === 'string' && SUBJECT_ID_PATTERN.test(value);
}

/**
 * The data subject `payload.guest.id` names, `guest:<id>`; null without one, or when it is no
 * opaque id (every boundary refuses such a payload: guestIdProblem). A number counts only as a
 * safe integer of at least 0: JSON.parse rounds a larger one, so 98765432109876543210 and
 * 98765432109876543211 both read 98765432109876540000 and two guests would share one subject,
 * one access request and one erasure. A string is checked itself, not `guest:<id>` (which passed
 * "-" and "_x"), and must leave `guest:<id>` a subject id (at most 128 characters).
 */
export function guestSubjectOf(payload: unknown): string | null {
  const id = guestIdOf(payload);
  if (typeof id === 'number') return Number.isSafeInteger(id) && id >= 0 ? `guest:${id}` : null;
  return typeof id === 'string' && isSubjectId(id) && isSubjectId(`guest:${id}`) ? `guest:${id}` : null;
}

/**
 * Why the payload's `guest` is refused, or null: when given (not null) it must be an object, the
 * shape PERSONAL_FIELDS names (`payload.guest.name`, `.email`, `.phone`), and its `id` an opaque
 * id (guestIdProblem). A string or a list there is no personal field: it was stored in plain, shown
 * to reader keys and never erased. THE rule of every boundary that takes a create (payloadProblem).
 */
export function guestProblem(payload: unknown): string | null {
  if (guestIsNoObject(payload)) {
    return 'payload.guest must be an object (its name, email, phone and id as fields): a string or a list there would be kept in plain and could not be erased';
  }
  return guestIdProblem(payload);
}

/** Whether the payload gives a `guest` (not null) that is no object: guestProblem refuses it. */
export function guestIsNoObject(payload: unknown): boolean {
  const guest = isPlainObject(payload) ? payload.guest : undefined;
  return guest !== undefined && guest !== null && !isPlainObject(guest);
}

/** Why `payload.guest.id` names no data subject although it is given, or null when it names one or is not given. */
export function guestIdProblem(payload: unknown): string | null {
  if (!namesGuestId(payload) || guestSubjectOf(payload) !== null) return null;
  if (typeof guestIdOf(payload) === 'number') {
    return `payload.guest.id, when a number, must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER} (2^53 - 1): a larger JSON number is not exact and would name another guest; send larger ids as strings`;
  }
  return "payload.guest.id must be an opaque id (a letter or digit, then letters, digits and . _ : -, at most 122 characters), not an e-mail address or a name: it names the guest's data subject and is stored in plain";
}

/** Whether the payload gives a `guest.id` at all, whatever it holds. */
export function namesGuestId(payload: unknown): boolean {
  const guest = isPlainObject(payload) ? payload.guest : undefined;
  return isPlainObject(guest) && Object.hasOwn(guest, 'id');
}

function guestIdOf(payload: unknown): unknown {
  const guest = isPlainObject(payload) ? payload.guest : undefined;
  return isPlainObject(guest) ? guest.id : undefined;
}

/**
 * Whom the mission's personal fields are about: the create's `subjects` and the guest of
 * `payload.guest.id` (`guest:<id>`), both when both are given, so all of a guest's missions share
 * one key and one erasure even when the sender names further subjects. Without either (a guest id
 * that is no subject id, e.g. an e-mail address, is refused before: payloadProblem), the mission itself (`mission:<missionId>`) when a personal input field holds anything or its type has
 * personal output (an agent's reply to the guest, which is written later and can only be sealed
 * under a key made at create), so even an anonymous guest's text is encrypted and erasable. None
 * when the mission can never hold personal data.
 */
export function resolveSubjects(input: Pick<MissionCreateDto, 'type' | 'description' | 'payload' | 'subjects'>, missionId: string): string[] {
  const named = new Set(input.subjects ?? []);
  const guest = guestSubjectOf(input.payload);
  if (guest) named.add(guest);
  if (named.size > 0) return [...named];
  const personal = PERSONAL_FIELDS[input.type].output.length > 0 || personalValues(input.type, 'input', input).length > 0;
  return personal ? [`mission:${missionId}`] : [];
}

/** The mission's subjects whose erasure it has not recorded yet (none for no mission). */
export function unerasedSubjects(mission: Mission | null): string[] {
  return (mission?.subjects ?? []).filter((subject) => !mission?.erasedSubjects?.includes(subject));
}

/**
 * `past` (the mission as it was at some time) naming also the subjects erased since, as `now`
 * records them: an erasure reaches back, so an earlier view of a mission shows the fields of an
 * erased subject as erased, not only those of the views after it.
 */
export function withErasuresOf(past: Mission, now: Mission): Mission {
  const since = (now.erasedSubjects ?? []).filter((subject) => !past.erasedSubjects?.includes(subject));
  return since.length === 0 ? past : { ...past, erasedSubjects: [...(past.erasedSubjects ?? []), ...since] };
}
