/**
 * What `verify` reports. Each finding names the culprit: the event that was changed, removed,
 * added or moved (its log entry id, mission and version), or the mission whose read model drifted.
 */
export type FindingKind =
  /** The stored JSON of an event is not what its successors' hashes were computed over. */
  | 'edited'
  /** An event is missing from the log (its successors still link to it). */
  | 'deleted'
  /** An event that no other event links to: not part of the chain that was written. */
  | 'inserted'
  /** An event that sits in the wrong place: its links point to events elsewhere in the log. */
  | 'reordered'
  /**
   * A byte copy of an event the log holds elsewhere (the same stored JSON, so the same hash), where
   * its links do not fit: the finding names the copy, and its detail the event it copies.
   */
  | 'duplicate'
  /** A mission's versions do not count up by one, with its hash links intact. */
  | 'version-gap'
  /** The log head or a mission's `h` does not name the last event. */
  | 'head-mismatch'
  /** The read model (mission hash, index or status counters) differs from a replay of the log. */
  | 'read-model-drift'
  /**
   * The mission's events cannot be folded (an impossible history, or an event no service writes: not
   * JSON, a type no build knows, a field its type always has missing), so it has no replayed state.
   */
  | 'unreplayable'
  /**
   * A key of the read model holds another Redis type than the services write (a mission's hash
   * replaced by a string): the finding names the key; nothing reads it, so the mission's routes
   * answer 409 and lists show it unavailable.
   */
  | 'wrong-type'
  /**
   * An event in a log partition its mission does not belong to, or a partition beyond the count
   * verified: the services and `history` would not read it there (LOG_PARTITIONS).
   */
  | 'misplaced'
  /**
   * A log head recorded earlier (`verify --anchor`) names no event of the log: the log up to it was
   * rewritten, its hashes recomputed, or cut.
   */
  | 'anchor-missing';

export interface Finding {
  kind: FindingKind;
  /** '' when the finding is about no single mission (status counters). */
  missionId: string;
  /** Log entry id of the culprit event; for a deleted one, the id it had (from the mission's event list) when known. '' when there is none. */
  logId: string;
  version?: number;
  detail: string;
}
