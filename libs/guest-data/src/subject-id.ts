import { isSubjectId, SUBJECT_ID_PATTERN } from '@app/mission';
import { GuestDataError, GuestDataErrorCode } from './guest-data-error';

// Declared with the mission (its create body names subjects); re-exported here, where keys are made.
export { isSubjectId, SUBJECT_ID_PATTERN };

export function assertSubjectId(value: string): void {
  if (!isSubjectId(value)) {
    throw new GuestDataError(GuestDataErrorCode.BadSubject, `subject id ${JSON.stringify(value)} does not match ${SUBJECT_ID_PATTERN.source}`);
  }
}
