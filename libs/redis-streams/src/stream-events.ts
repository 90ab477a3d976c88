/** What a stream consumer tells its service's metrics; every call names the stream it concerns. */
export interface StreamEvents {
  /** Messages moved to the poison stream (failed for good, or too often). */
  poisoned(stream: string, count: number): void;
  /** Messages taken over after they were pending for the claim idle time (a dead consumer's, or a failed handler's). */
  reclaimed(stream: string, count: number): void;
  /** Consumers of stopped instances removed from the group. */
  consumersRemoved(stream: string, count: number): void;
}
