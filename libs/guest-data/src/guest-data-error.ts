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

/** What fixes a master key that is needed and not configured: every message about one ends with it. */
export const MASTER_KEY_REMEDY = 'set DATA_KEY_SECRET/DATA_KEY_FILE to it, or list it in DATA_KEY_PREVIOUS_SECRETS/DATA_KEY_PREVIOUS_FILES';

/**
 * A stored data key wrapped under a master key this process is not configured with: the process is
 * misconfigured, so the ids are kept apart from the message for whoever answers a client. The
 * message names the key ids and the variable to set, never the subject: a service stores it as a
 * failed attempt's error (`lastError`), which the dead-letter list, the mission and the
 * `mission.finished` webhook bodies carry outside.
 */
export class WrongMasterKeyError extends GuestDataError {
  constructor(
    /** The id of the master key the stored data key is wrapped under. */
    readonly required: string,
    /** The ids of the master keys this process has, the current first. */
    readonly configured: readonly string[],
    /** What is wrapped, when not a subject's data key (a webhook signing secret, named by its webhook). */
    what = "a data subject's data key",
  ) {
    super(
      GuestDataErrorCode.WrongMasterKey,
      `${what} is wrapped under master key ${required}, which is not configured ` + `(configured: ${configured.join(', ')}); ${MASTER_KEY_REMEDY}`,
    );
    this.name = 'WrongMasterKeyError';
  }
}
