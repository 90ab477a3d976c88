/** Why guest data could not be read or written; each code has one clear message. */
export enum GuestDataErrorCode {
  /** The token (or a wrapped key) fails its authentication tag: it was altered, or moved to another mission or field. */
  Tampered = 'tampered',
  /** A wrapped data key names a master key that is not configured (not current, not among the previous ones). */
  WrongMasterKey = 'wrong-master-key',
  /** A value that starts like a token but is not one this version can read. */
  UnknownFormat = 'unknown-format',
  /** A master key that cannot be used: too short a secret, an unreadable key file. */
  BadMasterKey = 'bad-master-key',
  /** A subject id outside the allowed pattern (no `@`, so an e-mail address is never a key name). */
  BadSubject = 'bad-subject',
}

export class GuestDataError extends Error {
  constructor(
    readonly code: GuestDataErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GuestDataError';
  }
}
