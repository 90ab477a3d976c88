/**
 * Stored data of a mission that no code path could have written, so it cannot be read: an event
 * of its log that is no JSON, of an unknown type or without a field its type always has, or its
 * read model (`s`) not a mission, or its key of another Redis type. Someone changed it where it is
 * stored; no request mends it, but `replay verify` finds what changed and `replay rebuild` writes
 * the read model again from the log. The intake answers it with a 409 naming the mission.
 */
export class UnreadableStoredDataError extends Error {
  readonly code = 'UNREADABLE_STORED_DATA';
  constructor(
    readonly missionId: string,
    /** What cannot be read and why, e.g. `its event v7 (1717-0) cannot be read: a MissionFailed without data.attempt (a number)`. */
    readonly detail: string,
  ) {
    super(`mission ${missionId}: ${detail}`);
    this.name = 'UnreadableStoredDataError';
  }
}
