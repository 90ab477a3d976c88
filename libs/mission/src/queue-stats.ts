import type { PriorityLevel } from './mission-type';

/** The queue's figures (`GET /api/missions/queue/stats`); the console reads them too, so this file imports nothing of the server. */
export interface QueueStats {
  ready: number;
  readyByPriority: Record<PriorityLevel, number>;
  /** How long the longest-waiting ready mission has waited, ms; 0 when none is ready. */
  oldestReadyAgeMs: number;
  /** Missions enqueued and dequeued (leased) in the last full minute. */
  enqueuedPerMinute: number;
  dequeuedPerMinute: number;
  leased: number;
  inFlight: number;
  deadLettered: number;
  byStatus: Record<string, number>;
  enqueued: number;
  dequeued: number;
  leaseExpired: number;
  /** Missions waiting for a later start (notBefore). */
  scheduled: number;
  /** Missions waiting for their next attempt after a failed one (retry backoff). */
  backoff: number;
  /** Missions awaiting a reviewer (the review inbox). */
  awaitingReview: number;
  /** Of those, the ones found overdue (MissionReviewOverdue: waiting longer than REVIEW_TIMEOUT_MS). */
  reviewsOverdue: number;
  /** How long the longest-waiting review has waited, ms; 0 when none waits. */
  oldestReviewAgeMs: number;
  /** Unfinished missions past their deadline now (MissionOverdue recorded, not finished since). */
  overdue: number;
  /** Of those, the dead-lettered ones: they wait for an operator's requeue, not for an agent. */
  overdueDeadLettered: number;
  /** Missions recorded as overdue since the start of the deployment. */
  overdueRecorded: number;
}
