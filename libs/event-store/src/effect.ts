import { MissionMessagePattern, OutgoingMessage } from '@app/messages';

/** The idempotency record a create claims (the `idempotency` effect). */
export interface IdempotencyClaim {
  key: string;
  /** The create body's fingerprint, stored with the record. */
  fingerprint: string;
  /**
   * The same body's fingerprints as a record written earlier may hold them (under a previous master
   * key, or from before fingerprints were keyed): they match as `fingerprint` does, and are never stored.
   */
  formerFingerprints: readonly string[];
  ttlMs: number;
}

/**
 * Something that must change in the same atomic step as a mission's events. Agent slots and
 * credits are not among them: they live in another hash slot, and change through AgentSlots.
 */
export type Effect =
  /**
   * Claims the idempotency key for `ttlMs`, with the create body's fingerprint: a second create
   * with it returns the first mission instead when its body is the same, and is refused when not.
   */
  | ({ kind: 'idempotency' } & IdempotencyClaim)
  /**
   * The mission must still be leased, by the lease request `leaseId`, and its lease deadline not
   * passed; the lease ends. A stalled orchestrator cannot assign on a lease that ran out or that
   * went to another orchestrator meanwhile.
   */
  | { kind: 'require-lease'; leaseId: string }
  /** Puts the mission into the ready queue with this score (lower is served first). */
  | { kind: 'enqueue'; score: number; enqueuedAt: number; level: string }
  | { kind: 'leave-queue' }
  /** Into the dead-letter queue at `at` (ms), its MissionDeadLettered's reason kept with it. */
  | { kind: 'dead-letter'; at: number; reason: string }
  | { kind: 'leave-dead-letters' }
  /**
   * Into the reviewers' inbox, by the time the review was asked for (oldest first), and among the
   * reviews whose deadline is watched (the same time).
   */
  | { kind: 'await-review'; at: number }
  | { kind: 'leave-reviews' }
  /** Out of the watched review deadlines only: the review was found overdue, and stays in the inbox. */
  | { kind: 'leave-review-deadlines' }
  | { kind: 'count'; counter: string; by: number }
  /** Out of the ready queue until `at` (ms), in the set of its kind of wait. */
  | { kind: 'schedule'; at: number; reason: 'delayed' | 'retry' }
  /** Its scheduled time came, or it was cancelled while waiting. */
  | { kind: 'leave-schedule' }
  /** Watched for its deadline (ms), until it is found overdue or finishes. */
  | { kind: 'watch-deadline'; deadline: number }
  /** Found past its deadline at `at` (ms): no longer watched, counted among the overdue until it finishes. */
  | { kind: 'overdue'; at: number }
  /** Finished: neither watched nor counted overdue any more. */
  | { kind: 'leave-deadlines' }
  /** Finished at `at` (ms) naming data subjects: among the missions of its type that retention looks at. */
  | { kind: 'retain'; missionType: string; at: number }
  /**
   * A message to the service its pattern is routed to (MESSAGE_ROUTES), written with the events
   * so that neither exists without the other.
   */
  | { kind: 'emit'; message: OutgoingMessage }
  /**
   * A MissionMessage (`{ mission }`, the state after the events) to another service. The script
   * builds it from the state it stores, so the state crosses the wire once.
   */
  | { kind: 'emit-mission'; pattern: MissionMessagePattern }
  /**
   * Tells the orchestrators there is ready work (`queue.ready`), at most once per partition every
   * NUDGE_WINDOW_MS: under load a nudge per mission would be mostly noise, as a busy orchestrator
   * looks again after each lease anyway.
   */
  | { kind: 'nudge-orchestrator' }
  /** Among the missions of a data subject (PartitionKeys.subjectMissions), which an erasure or an access request reads. */
  | { kind: 'index-subject'; subject: string };
