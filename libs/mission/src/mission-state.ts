import { Evaluation, MissionResult, MissionSource } from './mission-events';
import { MissionStatus } from './mission-status';
import { MissionType, PriorityLevel } from './mission-type';

/** A reviewer's look at the result of one attempt (see MissionReviewRequested and what follows it). */
export interface MissionReview {
  /** The attempt whose result is reviewed. */
  attempt: number;
  /** The review policy rule that asked for the review. */
  rule: string;
  requestedAt: string;
  /** When the review was found overdue (REVIEW_TIMEOUT_MS); absent while it is not. */
  overdueAt?: string;
  /** The reviewer's decision, once given; the reviewer is the API key's name. */
  decision?: 'approved' | 'rejected';
  reviewedBy?: string;
  reviewedAt?: string;
  /** The approving reviewer's note. */
  note?: string;
  /** What the rejecting reviewer asked the next attempt to change. */
  feedback?: string;
  /** The agent's output before the approving reviewer edited it; absent when the approval kept it. */
  originalOutput?: Record<string, unknown>;
}

/** A mission as projected from its events: what the API returns and what messages carry. */
export interface Mission {
  id: string;
  type: MissionType;
  title: string;
  description: string;
  priority: PriorityLevel;
  priorityScore: number;
  requiredSkills: string[];
  payload: Record<string, unknown>;
  deadline?: string;
  /** While `scheduled`: when it goes into the ready queue (a later start, or a retry's next attempt). */
  notBefore?: string;
  /** When the deadline was found passed with the mission unfinished (MissionOverdue); absent until then. */
  overdueAt?: string;
  source?: MissionSource;
  /** Whom the personal fields are about (MissionCreated); absent when none. */
  subjects?: string[];
  /** The subjects erased since (SubjectErased), in order; absent before the first. */
  erasedSubjects?: string[];
  /**
   * The executor runs whose reply came after their attempt was over, and the evaluator's judgings
   * whose verdict could not be recorded, each recorded as billed (LateReplyBilled), in order;
   * absent before the first. A run's late reply is recorded once.
   */
  lateBilledRuns?: string[];
  status: MissionStatus;
  /**
   * Attempts made over the mission's whole life: a requeue does not reset it, so attempt N names
   * one attempt in every event, message and agent slot hold.
   */
  attempts: number;
  /** `attempts` when an operator last requeued the mission; `MAX_ATTEMPTS` counts the attempts after it. Absent before a requeue. */
  attemptsAtRequeue?: number;
  assignedAgentId: string | null;
  /** Agents that held earlier attempts, oldest first. */
  previousAgentIds: string[];
  result: MissionResult | null;
  evaluation: Evaluation | null;
  /** What the evaluator, or a rejecting reviewer, asked the next attempt to do better. */
  feedback: string | null;
  /** The review of the current result, from its request until the next attempt is assigned; absent when none was asked for. */
  review?: MissionReview;
  /** Rejections by reviewers since the last requeue (MAX_REVIEW_ROUNDS counts them); absent before the first. */
  reviewRounds?: number;
  /** `attempts` at the last rejection: MAX_ATTEMPTS counts the attempts after it (or after a later requeue). Absent before one. */
  attemptsAtRejection?: number;
  lastError: string | null;
  correlationId: string;
  /**
   * Who created it: the actor of its MissionCreated (an API key's name, or a service's own actor).
   * A `client` key sees only the missions it created. Absent from a state stored before the field
   * existed, until `replay rebuild` folds it again.
   */
  createdBy?: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}
