import { GuestDataError, WrongMasterKeyError } from '@app/guest-data';

/**
 * Guest data that cannot be opened for a reason of its own mission (altered where it is stored, a
 * token this version cannot read): an answer that holds more than that mission shows it with its
 * personal fields UNAVAILABLE_MARKER and goes on. A master key this process lacks
 * (WrongMasterKeyError) is every mission's, and stays the whole request's 503.
 */
export function isUnopenableGuestData(error: unknown): error is GuestDataError {
  return error instanceof GuestDataError && !(error instanceof WrongMasterKeyError);
}
