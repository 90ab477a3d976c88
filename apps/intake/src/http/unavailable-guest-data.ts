import { GuestDataError, WrongMasterKeyError } from '@app/guest-data';
import { Mission, ShownMission, UNAVAILABLE_MARKER } from '@app/mission';
import { toErrorBody } from './error-body.filter';
import { missionWithPersonalFieldsAs } from './redacted-personal-data';

/**
 * Guest data that cannot be opened for a reason of its own mission (altered where it is stored, a
 * token this version cannot read): an answer shows that mission with its personal fields
 * UNAVAILABLE_MARKER (unavailableMission) and goes on. A master key this process lacks
 * (WrongMasterKeyError) is every mission's, and stays the whole request's 503.
 */
export function isUnopenableGuestData(error: unknown): error is GuestDataError {
  return error instanceof GuestDataError && !(error instanceof WrongMasterKeyError);
}

/** The mission as the API shows one whose guest data cannot be opened (ShownMission): why, in the words of the error the API would answer for it. */
export function unavailableMission(mission: Mission, error: GuestDataError): ShownMission {
  return { ...missionWithPersonalFieldsAs(mission, UNAVAILABLE_MARKER), unavailable: toErrorBody(error).message };
}
