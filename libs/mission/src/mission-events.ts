import { MissionType, PriorityLevel } from './mission-type';

export interface MissionSource {
  system: string;
  model: string;
  recordId: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface MissionResult {
  output: Record<string, unknown>;
  model: string;
  latencyMs: number;
  usage: TokenUsage;
  /** From the configured price table; absent when the model has no price (the mock). */
  costUsd?: number;
}

export interface CriterionScore {
  criterion: string;
  weight: number;
  score: number;
}

/**
 * The judge of an evaluation that no judge made: the attempt's guest data could not be opened (a
 * field that fails authentication, another master key). It fails the attempt, so the retry rules
 * go on, but it is no verdict on the agent: its credits and quality stay as they are.
 */
export const NOT_JUDGED = 'none';

export interface Evaluation {
  attempt: number;
  score: number;
  passed: boolean;
  criteria: CriterionScore[];
  /** Names every criterion not fully met and how to fix it; becomes the next attempt's feedback. */
  reason: string;
  rubricVersion: string;
  /** 'rules', or 'llm:<model>' for the LLM judge; NOT_JUDGED when no judge could judge the attempt. */
  judge: string;
  /**
   * What the LLM judge's call was billed (JUDGE=llm), also when its reply could not be used and the
   * rules judged instead; absent for the rules alone and on events before it was recorded.
   */
  usage?: TokenUsage;
  /** USD for `usage`, from the client's price table; absent when the model has no price. */
  costUsd?: number;
  /**
   * The evaluator's judging that made the billed call `usage` is (present with it), so an evaluator
   * whose append took effect but whose reply was lost knows the verdict it meets is its own, its
   * call recorded, and does not record the call again as LateReplyBilled. Absent on events before.
   */
  runId?: string;
}

export interface MissionEventData {
  MissionCreated: {
    type: MissionType;
    title: string;
    description: string;
    priority: PriorityLevel;
    requiredSkills: string[];
    payload: Record<string, unknown>;
    deadline?: string;
    /** As asked at create; MissionScheduled says whether it delayed the start. */
    notBefore?: string;
    source?: MissionSource;
    /**
     * Whom the personal fields (PERSONAL_FIELDS) are about; they are stored encrypted under these
     * subjects' keys. Absent: the mission holds no personal data (or was created before schema 5).
     */
    subjects?: string[];
  };
  /** `due`: the time a MissionScheduled waited for came; `rejected`: a reviewer sent the result back, `feedback` is then the reviewer's. */
  MissionQueued: { priorityScore: number; reason: 'created' | 'retry' | 'due' | 'rejected'; feedback?: string };
  /**
   * Out of the ready queue until `notBefore`: a create asked to start later (`delayed`), or a failed
   * attempt waits its backoff before the next (`retry`, with the feedback for it).
   */
  MissionScheduled: { notBefore: string; reason: 'delayed' | 'retry'; priorityScore: number; feedback?: string };
  MissionAssigned: { agentId: string; attempt: number };
  /** `runId` is absent on events written before executor runs were named. */
  MissionStarted: { agentId: string; attempt: number; runId?: string };
  /**
   * `runId`: the executor run that recorded it, so a run whose append took effect but whose reply
   * was lost knows the result it meets is its own, not a stale one. Absent on events written before.
   */
  MissionCompleted: { agentId: string; attempt: number; result: MissionResult; runId?: string };
  /**
   * `usage` and `costUsd`: what the provider billed for a reply the attempt could not use (cut off
   * at the token limit, filtered, not JSON, not the schema), so the daily report counts it. Absent
   * when no billed reply came (a timeout, an HTTP error) and on events written before they existed.
   * `runId`: the executor run that recorded the failure, as on MissionCompleted.
   */
  MissionFailed: { agentId: string; attempt: number; error: string; usage?: TokenUsage; costUsd?: number; runId?: string };
  /**
   * `heldForReview`: the result passed, and the review policy asks a human to look at it before it
   * counts, so the MissionReviewRequested that follows in the same step moves the mission on
   * (without it a pass is `succeeded` at once).
   */
  MissionEvaluated: Evaluation & { heldForReview?: true };
  MissionDeadLettered: { reason: string; attempts: number; lastError: string };
  MissionCancelled: { reason: string };
  /**
   * `attemptsReset`: set by the upcast on requeues stored at schema version 1, when a requeue reset
   * the attempt count to 0 (attempt numbers then started again at 1). Since version 2 a requeue
   * keeps counting and records where MAX_ATTEMPTS starts again (`attemptsAtRequeue`).
   */
  MissionRequeued: { reason: string; priorityScore: number; attemptsReset?: true };
  /** The review policy's `rule` asks a reviewer to approve the result of `attempt` before it counts. */
  MissionReviewRequested: { rule: string; attempt: number };
  /** A reviewer accepted the result; `output`, when given, is the reviewer's edit that replaces the agent's. */
  MissionApproved: { attempt: number; note?: string; output?: Record<string, unknown> };
  /**
   * A reviewer sent the result back with `feedback`; `round` counts the rejections since the last
   * requeue (MAX_REVIEW_ROUNDS). A MissionQueued with the feedback, or MissionDeadLettered after
   * the last round, follows in the same step.
   */
  MissionRejected: { attempt: number; feedback: string; round: number };
  /** The review has waited longer than `timeoutMs` (REVIEW_TIMEOUT_MS); recorded once per review. */
  MissionReviewOverdue: { attempt: number; requestedAt: string; timeoutMs: number };
  /** The deadline passed before the mission finished; written once, whatever its status then. */
  MissionOverdue: { deadline: string };
  /**
   * The data subject was erased (DELETE /api/subjects/{subjectId}): its key is destroyed, so this
   * mission's personal fields about it read `[erased]` from now on. The actor is who asked; no
   * personal data in it.
   */
  SubjectErased: { subjectId: string; reason: string };
  /**
   * A reply the provider billed (`usage`, and `costUsd` when the model has a price) that came after
   * its attempt was over (cancelled, timed out, superseded), a reply the client rejected included:
   * the attempt's outcome can no longer record it, so this does, for the daily report and the
   * audit of what the mission cost. It changes no status. `runId`: the executor run whose call it
   * answered (one call a run), so a retried append records it once. `judge`: the reply was the LLM
   * judge's on the attempt's result (JUDGE=llm), whose verdict could no longer be recorded (the
   * attempt over, or judged already); `runId` is then the evaluator's judging (Evaluation's
   * `runId`) and `agentId` the agent judged. Absent: the agent's own call, by the executor.
   */
  LateReplyBilled: { attempt: number; agentId: string; usage: TokenUsage; costUsd?: number; runId: string; judge?: true };
}

export type MissionEventType = keyof MissionEventData;
export const MISSION_EVENT_TYPES: readonly MissionEventType[] = [
  'MissionCreated',
  'MissionQueued',
  'MissionAssigned',
  'MissionStarted',
  'MissionCompleted',
  'MissionFailed',
  'MissionEvaluated',
  'MissionDeadLettered',
  'MissionCancelled',
  'MissionRequeued',
  'MissionReviewRequested',
  'MissionApproved',
  'MissionRejected',
  'MissionReviewOverdue',
  'MissionOverdue',
  'MissionScheduled',
  'SubjectErased',
  'LateReplyBilled',
];

/**
 * 2: requeues keep the attempt count (see MissionRequeued); version-1 requeues are upcast with
 * `attemptsReset`. 3: MissionOverdue and MissionScheduled (and the status `scheduled`) exist;
 * version-2 events read unchanged. 4: the review events (MissionReviewRequested, MissionApproved,
 * MissionRejected, MissionReviewOverdue) and MissionEvaluated's `heldForReview` exist; older events
 * read unchanged. 5: MissionCreated's `subjects` and SubjectErased exist, and personal fields hold
 * tokens (`enc:v1:…`); older events read unchanged (their fields in plain). 6: personal fields
 * hold `enc:v2:…` tokens (shorter, see @app/guest-data); version-5 events and their `enc:v1`
 * tokens read unchanged. 7: the personal fields of one part (a create's input, an output) are one
 * `enc:v3:…` group, sealed as one message; version-6 events and their `enc:v2` tokens read
 * unchanged. 8: LateReplyBilled exists; version-7 events read unchanged. A build reads events up to its own version: an older build refuses
 * events of a newer schema version, which may hold event types or token versions it does not know.
 */
export const CURRENT_SCHEMA_VERSION = 8;

/** The envelope every event in the log carries. */
export interface EventEnvelope<T extends MissionEventType = MissionEventType> {
  eventId: string;
  type: T;
  missionId: string;
  version: number;
  at: string;
  actor: string;
  correlationId: string;
  causationId: string;
  schemaVersion: number;
  data: MissionEventData[T];
  /** SHA-1 of the mission's previous event as stored ('' for the first); set by the event store. */
  prevHash?: string;
  /** SHA-1 of the previous event in the whole log ('' for the first); set by the event store. */
  logPrevHash?: string;
}

export type MissionEvent = { [T in MissionEventType]: EventEnvelope<T> }[MissionEventType];

/** An event as a decision produces it, before the store gives it an envelope. */
export type NewMissionEvent = { [T in MissionEventType]: { type: T; data: MissionEventData[T] } }[MissionEventType];
