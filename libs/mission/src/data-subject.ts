import { isPlainObject } from './field-problems';
import { MissionCreateDto } from './mission-create.dto';
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
 * opaque id (every boundary refuses such a payload: payloadProblem).
 */
export function guestSubjectOf(payload: unknown): string | null {
  const guest = isPlainObject(payload) ? payload.guest : undefined;
  const id = isPlainObject(guest) ? guest.id : undefined;
  return (typeof id === 'string' || typeof id === 'number') && isSubjectId(`guest:${id}`) ? `guest:${id}` : null;
}

/** Whether the payload gives a `guest.id` at all, whatever it holds. */
export function namesGuestId(payload: unknown): boolean {
  const guest = isPlainObject(payload) ? payload.guest : undefined;
  return isPlainObject(guest) && Object.hasOwn(guest, 'id');
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
