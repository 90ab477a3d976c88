import type { ShownMission } from './live-stream-protocol';

/**
 * A mission in the review inbox (`GET /api/reviews`), as the API shows it, with what a rejection of
 * its result would do; the console reads it too, so this file imports nothing of the server.
 */
export interface ReviewInboxItem extends ShownMission {
  /**
   * A rejection of the result under review would be the mission's last review round
   * (MAX_REVIEW_ROUNDS, counted since its last requeue): it dead-letters the mission instead of
   * queueing another attempt (isLastReviewRound).
   */
  lastReviewRound: boolean;
}
