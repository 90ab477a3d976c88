import { isSubjectId } from '@app/mission';

/** The event type whose line names a mission's data subjects. */
export const CREATE_TYPE = 'MissionCreated';
/** The event type whose line names a subject erased on its mission. */
const ERASED_TYPE = 'SubjectErased';

/** The data subjects a stored MissionCreated names (schema 5 on), none for any other line. */
export function createdSubjects(stored: Record<string, unknown>): string[] {
  if (stored.type !== CREATE_TYPE || typeof stored.data !== 'object' || stored.data === null) return [];
  return subjectIds((stored.data as { subjects?: unknown }).subjects);
}

/** The data subject a stored SubjectErased names, undefined for any other line. */
export function erasedSubject(stored: Record<string, unknown>): string | undefined {
  if (stored.type !== ERASED_TYPE || typeof stored.data !== 'object' || stored.data === null) return undefined;
  const { subjectId } = stored.data as { subjectId?: unknown };
  return isSubjectId(subjectId) ? subjectId : undefined;
}

/** The subject ids of a stored `subjects` list (none when it is no list). */
export function subjectIds(subjects: unknown): string[] {
  return Array.isArray(subjects) ? subjects.filter(isSubjectId) : [];
}
