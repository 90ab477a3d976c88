import { isPlainObject } from './field-problems';
import { MissionCreateDto } from './mission-create.dto';
import { personalValues } from './personal-fields';

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
 * Whom the mission's personal fields are about: the create's `subjects` when it names any; else
 * the guest of `payload.guest.id` (`guest:<id>`), so all of a guest's missions share one key and
 * one erasure; else, when a personal field holds anything, the mission itself
 * (`mission:<missionId>`), so even an anonymous guest's text is encrypted and erasable. None when
 * the mission holds no personal data.
 */
export function resolveSubjects(input: Pick<MissionCreateDto, 'type' | 'description' | 'payload' | 'subjects'>, missionId: string): string[] {
  if (input.subjects?.length) return [...new Set(input.subjects)];
  const guest = input.payload.guest;
  const guestId = isPlainObject(guest) ? guest.id : undefined;
  if ((typeof guestId === 'string' || typeof guestId === 'number') && isSubjectId(`guest:${guestId}`)) return [`guest:${guestId}`];
  return personalValues(input.type, 'input', input).length > 0 ? [`mission:${missionId}`] : [];
}
