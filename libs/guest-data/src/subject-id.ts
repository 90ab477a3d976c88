import { GuestDataError, GuestDataErrorCode } from './guest-data-error';

/**
 * A data subject's id: opaque, never personal data itself. No `@` and no spaces, so an e-mail
 * address or a name is refused instead of becoming a Redis hash field and an event field.
 */
export const SUBJECT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function isSubjectId(value: unknown): value is string {
  return typeof value === 'string' && SUBJECT_ID_PATTERN.test(value);
}

export function assertSubjectId(value: string): void {
  if (!isSubjectId(value)) {
    throw new GuestDataError(GuestDataErrorCode.BadSubject, `subject id ${JSON.stringify(value)} does not match ${SUBJECT_ID_PATTERN.source}`);
  }
}
