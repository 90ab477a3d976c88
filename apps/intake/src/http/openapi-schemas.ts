import { Type } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { AGENT_STATUSES, AgentStatus, AgentStatusChange, AgentView } from '@app/agents';
import {
  CriterionScore,
  DeadLetterEntry,
  Evaluation,
  EventEnvelope,
  MISSION_EVENT_TYPES,
  MISSION_STATUSES,
  MISSION_TYPES,
  MissionEventType,
  MissionPage,
  MissionResult,
  MissionReview,
  MissionSource,
  MissionSourceDto,
  MissionStatus,
  MissionType,
  PRIORITY_LEVELS,
  PriorityLevel,
  QueueStats,
  ReviewInboxItem,
  ShownMission,
  UNAVAILABLE_MARKER,
  UnreadableMission,
  TokenUsage,
} from '@app/mission';
import { DailyReport, DailyReportRow } from '@app/projections';
import { ErrorBody } from '@app/runtime';
import { ALTERED_GUEST_DATA } from './error-body.filter';

/*
 * Documentation-only classes: the API returns plain objects typed by TypeScript interfaces, which
 * leave no trace at runtime, so these classes mirror them for OpenAPI. Nothing constructs them.
 * What each mirrors (keep them in step; the type checks at the end of this file fail the build
 * when a field is added, removed or retyped in the interface):
 *
 *   MissionView          ShownMission       libs/mission/src/live-stream-protocol.ts
 *   MissionReviewView    MissionReview      libs/mission/src/mission-state.ts
 *   MissionResultView    MissionResult      libs/mission/src/mission-events.ts
 *   TokenUsageView       TokenUsage         libs/mission/src/mission-events.ts
 *   EvaluationView       Evaluation         libs/mission/src/mission-events.ts
 *   CriterionScoreView   CriterionScore     libs/mission/src/mission-events.ts
 *   MissionEventView     EventEnvelope      libs/mission/src/mission-events.ts
 *   MissionPageView      MissionPage        libs/mission/src/mission-page.ts
 *   UnreadableMissionView UnreadableMission libs/mission/src/unreadable-mission.ts
 *   ReviewInboxItemView  ReviewInboxItem    libs/mission/src/review-inbox-item.ts
 *   ReviewPageView       MissionPage        libs/mission/src/mission-page.ts
 *   QueueStatsView       QueueStats         libs/mission/src/queue-stats.ts
 *   DailyReportView      DailyReport        libs/projections/src/daily-report.reader.ts
 *   DailyReportRowView   DailyReportRow     libs/projections/src/daily-report.reader.ts
 *   DeadLetterView       DeadLetterEntry    libs/mission/src/dead-letter-entry.ts
 *   DeadLetterPageView   MissionPage        libs/mission/src/mission-page.ts
 *   RequeuedView         { requeued }       apps/intake/src/dead-letters/dead-letters.controller.ts
 *   ErrorBodyView        ErrorBody          apps/intake/src/http/error-body.filter.ts
 *   FieldErrorView       fieldErrors()      apps/intake/src/http/request-validation.pipe.ts
 *
 * `source` reuses MissionSourceDto, which has exactly the fields of MissionSource.
 */

/** Shared enum schemas, so each appears once under components.schemas. */
export const MISSION_TYPE_ENUM = { enum: [...MISSION_TYPES], enumName: 'MissionType' } as const;
export const PRIORITY_LEVEL_ENUM = { enum: [...PRIORITY_LEVELS], enumName: 'PriorityLevel' } as const;
export const MISSION_STATUS_ENUM = { enum: [...MISSION_STATUSES], enumName: 'MissionStatus' } as const;
export const MISSION_EVENT_TYPE_ENUM = { enum: [...MISSION_EVENT_TYPES], enumName: 'MissionEventType' } as const;

export const EXAMPLE_MISSION_ID = '01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e';
const EXAMPLE_CORRELATION_ID = 'odoo-helpdesk-4711';

export class TokenUsageView implements TokenUsage {
  @ApiProperty({ type: 'integer', minimum: 0, example: 412 })
  promptTokens: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 188 })
  completionTokens: number;
}

export class MissionResultView implements MissionResult {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "The agent's structured answer; its shape depends on the mission type.",
    example: { summary: 'Technician booked for 14:00; guest offered a fan meanwhile.', actions: ['book_technician'] },
  })
  output: Record<string, unknown>;

  @ApiProperty({ description: 'The model that produced the output.', example: 'gpt-4o-mini' })
  model: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Duration of the model call in milliseconds.', example: 1830 })
  latencyMs: number;

  @ApiProperty({ type: () => TokenUsageView })
  usage: TokenUsageView;

  @ApiPropertyOptional({
    minimum: 0,
    description: 'Cost of the call from the configured price table; absent when the model has no price (the mock).',
    example: 0.00018,
  })
  costUsd?: number;
}

export class CriterionScoreView implements CriterionScore {
  @ApiProperty({ description: 'Rubric criterion.', example: 'addresses_the_request' })
  criterion: string;

  @ApiProperty({ minimum: 0, description: "The criterion's weight in the total score.", example: 0.4 })
  weight: number;

  @ApiProperty({ minimum: 0, maximum: 1, description: 'Score for this criterion, 0..1.', example: 0.9 })
  score: number;
}

export class EvaluationView implements Evaluation {
  @ApiProperty({ type: 'integer', minimum: 1, description: 'The attempt this evaluation judged.', example: 1 })
  attempt: number;

  @ApiProperty({ minimum: 0, maximum: 1, description: 'Weighted total score, 0..1.', example: 0.86 })
  score: number;

  @ApiProperty({ description: 'Whether the score reached the pass mark; a failed evaluation sends the mission back to the queue.', example: true })
  passed: boolean;

  @ApiProperty({ type: () => [CriterionScoreView] })
  criteria: CriterionScoreView[];

  @ApiProperty({ description: "The judge's reasoning.", example: 'Books a technician and keeps the guest informed.' })
  reason: string;

  @ApiProperty({ description: 'Version of the rubric used.', example: 'maintenance@1' })
  rubricVersion: string;

  @ApiProperty({ description: 'Who judged: a model name or a rule-based judge.', example: 'rules' })
  judge: string;

  @ApiPropertyOptional({
    type: () => TokenUsageView,
    description: "What the LLM judge's call was billed (JUDGE=llm), also when its reply could not be used and the rules judged instead; absent otherwise.",
  })
  usage?: TokenUsageView;

  @ApiPropertyOptional({
    minimum: 0,
    description: "Cost of the LLM judge's call from the configured price table; absent when the model has no price.",
    example: 0.00004,
  })
  costUsd?: number;

  @ApiPropertyOptional({
    description:
      "The evaluator's judging that made the LLM judge's call (present with usage), so the call is recorded once: with this verdict, or else as LateReplyBilled with judge: true.",
    example: '01964f3a-7c2f-7000-8000-0000000000bb',
  })
  runId?: string;
}

/**
 * An object property that may be null, as OpenAPI 3.0 can say it: `nullable` beside a `$ref` (or
 * an `allOf` of one) does not admit null to validators, so it is one of the object or null.
 */
function nullableObject(model: Type<unknown>, description: string) {
  return {
    description,
    oneOf: [{ $ref: getSchemaPath(model) }, { type: 'object' as const, nullable: true, enum: [null], description: 'null' }],
  };
}

export class MissionReviewView implements MissionReview {
  @ApiProperty({ type: 'integer', minimum: 1, description: 'The attempt whose result is reviewed.', example: 1 })
  attempt: number;

  @ApiProperty({ description: 'The review policy rule that asked for the review (REVIEW_POLICY_FILE).', example: 'guest-replies' })
  rule: string;

  @ApiProperty({ format: 'date-time', description: 'When the review was asked for.', example: '2026-05-01T09:31:00.000Z' })
  requestedAt: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the review was found overdue (REVIEW_TIMEOUT_MS); absent while it is not.' })
  overdueAt?: string;

  @ApiPropertyOptional({ enum: ['approved', 'rejected'], description: "The reviewer's decision; absent while the review waits." })
  decision?: 'approved' | 'rejected';

  @ApiPropertyOptional({ description: 'The reviewer: the name of the API key that decided.', example: 'front-office-lead' })
  reviewedBy?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the reviewer decided.' })
  reviewedAt?: string;

  @ApiPropertyOptional({ description: "The approving reviewer's note.", example: 'Offered 13:00 instead of 14:00.' })
  note?: string;

  @ApiPropertyOptional({ description: 'What the rejecting reviewer asked the next attempt to change.', example: 'Mention the parking fee.' })
  feedback?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "The agent's output before the approving reviewer edited it (`result.output` holds the edit); absent when the approval kept it.",
  })
  originalOutput?: Record<string, unknown>;
}

/** A mission as projected from its events. */
@ApiExtraModels(MissionResultView, EvaluationView)
export class MissionView implements ShownMission {
  @ApiProperty({ description: 'Mission id (UUIDv7).', example: EXAMPLE_MISSION_ID })
  id: string;

  @ApiProperty({ ...MISSION_TYPE_ENUM, example: 'maintenance' })
  type: MissionType;

  @ApiProperty({ example: 'AC broken in room 204' })
  title: string;

  @ApiProperty({ example: 'The AC blows warm air; guest is uncomfortable.' })
  description: string;

  @ApiProperty({ ...PRIORITY_LEVEL_ENUM, example: 'high' })
  priority: PriorityLevel;

  @ApiProperty({
    minimum: 0,
    maximum: 100,
    description:
      'Computed priority, 0..100: level, type, VIP, revenue at stake, safety. The queue weighs it with the deadline and puts safety issues first (README, Priority).',
    example: 61,
  })
  priorityScore: number;

  @ApiProperty({ type: [String], description: 'Skills an agent needs; the type defaults when the submitter named none.', example: ['facility_maintenance'] })
  requiredSkills: string[];

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Free-form input for the agent, as submitted.', example: { room: '204' } })
  payload: Record<string, unknown>;

  @ApiPropertyOptional({ format: 'date-time', description: 'Due time (ISO 8601), when one was given.', example: '2026-05-01T18:00:00.000Z' })
  deadline?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'While `scheduled`: when the mission goes into the ready queue (a later start asked at create, or the next attempt after a backoff).',
    example: '2026-05-01T07:00:00.000Z',
  })
  notBefore?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'When the deadline was found passed with the mission unfinished (event MissionOverdue); absent until then.',
    example: '2026-05-01T18:00:01.000Z',
  })
  overdueAt?: string;

  @ApiPropertyOptional({ type: () => MissionSourceDto, description: 'The ERP record the mission came from, when given.' })
  source?: MissionSourceDto;

  @ApiPropertyOptional({
    type: [String],
    description: 'Whom the personal fields are about (README, Guest data); absent when the mission holds no personal data.',
    example: ['guest:4711'],
  })
  subjects?: string[];

  @ApiPropertyOptional({
    type: [String],
    description: 'Subjects erased since (event SubjectErased): their personal fields read "[erased]". Absent before the first.',
    example: ['guest:4711'],
  })
  erasedSubjects?: string[];

  @ApiPropertyOptional({
    type: [String],
    description:
      "Executor runs whose reply came after their attempt was over and was billed, and evaluator judgings whose LLM judge's billed reply could no longer be recorded with a verdict (event LateReplyBilled, which holds its tokens and cost). Absent before the first.",
    example: ['01964f3a-7c2f-7000-8000-0000000000aa'],
  })
  lateBilledRuns?: string[];

  @ApiProperty({ ...MISSION_STATUS_ENUM, example: 'queued' })
  status: MissionStatus;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: "Attempts assigned over the mission's life; a requeue does not reset it, so attempt N is one attempt in every event.",
    example: 0,
  })
  attempts: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description:
      '`attempts` when the mission was last requeued from the dead-letter queue; MAX_ATTEMPTS counts the attempts after it. Absent before a requeue.',
    example: 3,
  })
  attemptsAtRequeue?: number;

  @ApiProperty({ type: String, nullable: true, description: 'The agent holding the mission now, or null.', example: null })
  assignedAgentId: string | null;

  @ApiProperty({ type: [String], description: 'Agents that held earlier attempts, oldest first.', example: [] })
  previousAgentIds: string[];

  @ApiProperty(nullableObject(MissionResultView, 'Output of the current attempt once it completed, or null.'))
  result: MissionResultView | null;

  @ApiProperty(nullableObject(EvaluationView, 'Evaluation of the current attempt, or null.'))
  evaluation: EvaluationView | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'What the evaluator, or a rejecting reviewer, asked the next attempt to do better, or null.',
    example: null,
  })
  feedback: string | null;

  @ApiPropertyOptional({
    type: () => MissionReviewView,
    description: 'The human review of the current result, from its request until the next attempt is assigned; absent when none was asked for.',
  })
  review?: MissionReviewView;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    description: 'Rejections by reviewers since the last requeue; MAX_REVIEW_ROUNDS of them dead-letter the mission. Absent before the first.',
    example: 1,
  })
  reviewRounds?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    description: '`attempts` at the last rejection by a reviewer; MAX_ATTEMPTS counts the attempts after it (or after a later requeue). Absent before one.',
    example: 1,
  })
  attemptsAtRejection?: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Error of the latest failed attempt or reason of a failed evaluation; null when none.',
    example: null,
  })
  lastError: string | null;

  @ApiProperty({
    description: 'Ties together the logs and events of this mission; the X-Correlation-Id of the create, or a new id.',
    example: EXAMPLE_CORRELATION_ID,
  })
  correlationId: string;

  @ApiPropertyOptional({
    description:
      "Who created it: the `actor` of its MissionCreated (the API key's name; `stream:mission.submit` for the submission stream; a service's own actor for what a service creates). " +
      'A `client` key sees only the missions it created. Absent on a mission stored before this field existed, until `replay rebuild`.',
    example: 'odoo',
  })
  createdBy?: string;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Version of the mission: the version of its latest event (events count from 1).', example: 2 })
  version: number;

  @ApiProperty({ format: 'date-time', example: '2026-05-01T09:30:00.000Z' })
  createdAt: string;

  @ApiProperty({ format: 'date-time', example: '2026-05-01T09:30:00.000Z' })
  updatedAt: string;

  @ApiPropertyOptional({
    description:
      'Present only when the mission\'s stored guest data fails its integrity check (it was altered where it is stored): its personal fields read "[unavailable]", ' +
      'and this says why, for an operator (`replay verify` finds where). Approve, reject and requeue are refused with a 409 until it is mended; cancel is taken.',
    example: ALTERED_GUEST_DATA,
  })
  unavailable?: string;
}

const EVENT_DATA_DESCRIPTION = [
  "The event's data; its shape depends on `type`:",
  '- MissionCreated: {type, title, description, priority, requiredSkills, payload, deadline?, notBefore?, source?, subjects?}',
  "- MissionQueued: {priorityScore, reason: 'created' | 'retry' | 'due' | 'rejected', feedback?}",
  "- MissionScheduled: {notBefore, reason: 'delayed' | 'retry', priorityScore, feedback?}",
  '- MissionAssigned: {agentId, attempt}',
  '- MissionStarted: {agentId, attempt, runId}',
  '- MissionCompleted: {agentId, attempt, result, runId?} (result as in MissionResultView; runId: the executor run that recorded it)',
  '- MissionFailed: {agentId, attempt, error, usage?, costUsd?, runId?} (usage and costUsd: what the provider billed for a reply the attempt refused)',
  '- MissionEvaluated: an EvaluationView, with heldForReview: true when a review follows',
  '- MissionDeadLettered: {reason, attempts, lastError}',
  '- MissionCancelled: {reason}',
  '- MissionRequeued: {reason, priorityScore}',
  '- MissionReviewRequested: {rule, attempt}',
  "- MissionApproved: {attempt, note?, output?} (output: the reviewer's edit)",
  '- MissionRejected: {attempt, feedback, round}',
  '- MissionReviewOverdue: {attempt, requestedAt, timeoutMs}',
  '- MissionOverdue: {deadline}',
  '- SubjectErased: {subjectId, reason}',
  "- LateReplyBilled: {attempt, agentId, usage, costUsd?, runId, judge?} (a reply the provider billed after its attempt was over; no status change; judge: true for the LLM judge's reply whose verdict could no longer be recorded, runId then the verdict's judging)",
].join('\n');

/** One event of a mission's history, in the envelope every event carries. */
export class MissionEventView {
  @ApiProperty({ description: 'Event id.', example: '01964f3a-7c2f-7000-8000-000000000001' })
  eventId: string;

  @ApiProperty({ ...MISSION_EVENT_TYPE_ENUM, example: 'MissionCreated' })
  type: MissionEventType;

  @ApiProperty({ example: EXAMPLE_MISSION_ID })
  missionId: string;

  @ApiProperty({ type: 'integer', minimum: 1, description: "Position in the mission's history, from 1.", example: 1 })
  version: number;

  @ApiProperty({ format: 'date-time', description: 'When the event was recorded.', example: '2026-05-01T09:30:00.000Z' })
  at: string;

  @ApiProperty({ description: 'Who caused it: intake, api, orchestrator, an agent, the evaluator, …', example: 'intake' })
  actor: string;

  @ApiProperty({ example: EXAMPLE_CORRELATION_ID })
  correlationId: string;

  @ApiProperty({ description: 'The id of what caused this event (a command or an earlier event).', example: EXAMPLE_CORRELATION_ID })
  causationId: string;

  @ApiProperty({ type: 'integer', description: 'Version of the event schema.', example: 1 })
  schemaVersion: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: EVENT_DATA_DESCRIPTION,
    example: {
      type: 'maintenance',
      title: 'AC broken in room 204',
      description: '',
      priority: 'high',
      requiredSkills: ['facility_maintenance'],
      payload: { room: '204' },
    },
  })
  data: Record<string, unknown>;

  @ApiPropertyOptional({ description: "SHA-1 of the mission's previous event as stored ('' for the first); the tamper-evidence chain" })
  prevHash?: string;

  @ApiPropertyOptional({ description: "SHA-1 of the previous event in the whole log ('' for the first)" })
  logPrevHash?: string;
}

/** A listed mission whose stored state cannot be read (UnreadableMission): only its id is known. */
export class UnreadableMissionView implements UnreadableMission {
  @ApiProperty({ description: 'Mission id.', example: EXAMPLE_MISSION_ID })
  id: string;

  @ApiProperty({ enum: [UNAVAILABLE_MARKER], description: 'Unknown: the stored state cannot be read.' })
  type: typeof UNAVAILABLE_MARKER;

  @ApiProperty({ enum: [UNAVAILABLE_MARKER], description: 'Unknown: the stored state cannot be read.' })
  title: typeof UNAVAILABLE_MARKER;

  @ApiProperty({ enum: [UNAVAILABLE_MARKER], description: 'Unknown: the stored state cannot be read.' })
  description: typeof UNAVAILABLE_MARKER;

  @ApiProperty({ enum: [UNAVAILABLE_MARKER], description: 'Unknown: the stored state cannot be read.' })
  priority: typeof UNAVAILABLE_MARKER;

  @ApiProperty({ enum: [UNAVAILABLE_MARKER], description: 'Unknown: the stored state cannot be read. Tells this item from a mission.' })
  status: typeof UNAVAILABLE_MARKER;

  @ApiProperty({
    description:
      "Why: the mission's state in the read model is no mission, or its key holds another Redis type (changed where it is stored), and what an operator does " +
      '(`replay verify`, then `replay rebuild`); the message its own routes answer their 409 with.',
    example:
      'mission 01964f3a-7c2e-7b1a-9d4e-2f6a8b0c1d2e: its state in the read model (s) is not JSON; it was changed where it is stored: an operator must run `replay verify`, which finds what changed, then `replay rebuild`, which writes the read model again from the log',
  })
  unavailable: string;
}

@ApiExtraModels(MissionView, UnreadableMissionView)
export class MissionPageView implements MissionPage<ShownMission | UnreadableMission> {
  @ApiProperty({
    type: 'array',
    items: { oneOf: [{ $ref: getSchemaPath(MissionView) }, { $ref: getSchemaPath(UnreadableMissionView) }] },
    description:
      'Missions, newest first. A mission whose stored state cannot be read (changed where it is stored) is listed as an UnreadableMissionView, `status` "[unavailable]", ' +
      'in a list filtered by nothing but its creation time, for any key but a client key: a filter on what it is cannot tell.',
  })
  items: (MissionView | UnreadableMissionView)[];

  @ApiPropertyOptional({
    description: 'Pass as `cursor` to get the next page; absent on the last page.',
    example: 'AvX4BfegwSCkzwIAAAGWiy51wAGWobI8TX5fipsMHS4_Sls',
  })
  nextCursor?: string;
}

/** A mission in the review inbox: the mission, and what a rejection of its result would do. */
export class ReviewInboxItemView extends MissionView implements ReviewInboxItem {
  @ApiProperty({
    description:
      "Whether a rejection of the result now would be the mission's last review round: its MAX_REVIEW_ROUNDS-th since its last requeue " +
      "(`reviewRounds` counts the ones before), which dead-letters it rather than queueing another attempt. Taken from the intake's MAX_REVIEW_ROUNDS.",
    example: false,
  })
  lastReviewRound: boolean;
}

export class ReviewPageView implements MissionPage<ReviewInboxItem> {
  @ApiProperty({ type: () => [ReviewInboxItemView], description: 'Missions awaiting review, the longest-waiting first.' })
  items: ReviewInboxItemView[];

  @ApiPropertyOptional({
    description: 'Pass as `cursor` to get the next page; absent on the last page.',
    example: 'AlIk1tevQrJ4_wIAAAGWiy51wAGWobI8TX5fipsMHS4_Sls',
  })
  nextCursor?: string;
}

export class QueueStatsView implements QueueStats {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions waiting in the ready queue.', example: 12 })
  ready: number;

  @ApiProperty({
    type: 'object',
    properties: { low: { type: 'integer' }, normal: { type: 'integer' }, high: { type: 'integer' }, critical: { type: 'integer' } },
    description: 'Ready missions per priority level.',
    example: { low: 5, normal: 4, high: 2, critical: 1 },
  })
  readyByPriority: Record<PriorityLevel, number>;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'How long the longest-waiting ready mission has waited (ms); 0 when none is ready.', example: 1250 })
  oldestReadyAgeMs: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions enqueued in the last full minute.', example: 300 })
  enqueuedPerMinute: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions dequeued (leased to the orchestrator) in the last full minute.', example: 298 })
  dequeuedPerMinute: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions leased to the orchestrator but not yet assigned.', example: 1 })
  leased: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Leased plus assigned, running and evaluating missions.', example: 4 })
  inFlight: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions in the dead-letter queue.', example: 2 })
  deadLettered: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Count of missions per status (only statuses that occurred).',
    example: { queued: 12, running: 3, succeeded: 140, dead_lettered: 2 },
  })
  byStatus: Record<string, number>;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Total enqueues since the counters began (creates, retries, requeues).', example: 170 })
  enqueued: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Total missions taken from the ready queue.', example: 158 })
  dequeued: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Total leases that expired and went back to ready.', example: 0 })
  leaseExpired: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions waiting for a later start (notBefore; status scheduled).', example: 0 })
  scheduled: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'Missions waiting for their next attempt after a failed one (retry backoff; status scheduled).',
    example: 0,
  })
  backoff: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions awaiting a reviewer (the inbox of GET /api/reviews).', example: 3 })
  awaitingReview: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Of those, the reviews found overdue (waiting longer than REVIEW_TIMEOUT_MS).', example: 1 })
  reviewsOverdue: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'How long the longest-waiting review has waited (ms); 0 when none waits.', example: 5400000 })
  oldestReviewAgeMs: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Unfinished missions past their deadline now (recorded by MissionOverdue).', example: 0 })
  overdue: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'Of those, the dead-lettered ones: they wait for a requeue (GET /api/dlq), not for an agent.',
    example: 0,
  })
  overdueDeadLettered: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Total missions recorded as overdue since the start of the deployment.', example: 0 })
  overdueRecorded: number;
}

export class DeadLetterView implements DeadLetterEntry {
  @ApiProperty({ example: EXAMPLE_MISSION_ID })
  missionId: string;

  @ApiProperty({ ...MISSION_TYPE_ENUM, example: 'pricing' })
  type: MissionType;

  @ApiProperty({ example: 'Reprice suites for the fair weekend' })
  title: string;

  @ApiProperty({ description: 'Why it was dead-lettered: the reason its MissionDeadLettered event records.', example: 'failed 3 of 3 attempts' })
  reason: string;

  @ApiProperty({ type: 'integer', minimum: 0, example: 3 })
  attempts: number;

  @ApiProperty({ type: String, nullable: true, description: 'Error of the last failed attempt, or null.', example: 'LLM call timed out' })
  lastError: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-05-01T10:02:11.000Z' })
  deadLetteredAt: string;
}

export class DeadLetterPageView implements MissionPage<DeadLetterEntry> {
  @ApiProperty({ type: () => [DeadLetterView], description: 'Dead letters, the oldest dead-lettered first.' })
  items: DeadLetterView[];

  @ApiPropertyOptional({
    description: 'Pass as `cursor` to get the next page; absent on the last page.',
    example: 'AkJ1k3dYc0v1AgIAAAGWiy51wAGWobI8TX5fipsMHS4_Sls',
  })
  nextCursor?: string;
}

export class SkippedRequeueView {
  @ApiProperty({ example: EXAMPLE_MISSION_ID }) missionId: string;
  @ApiProperty({ example: `cannot requeue mission ${EXAMPLE_MISSION_ID}: mission is queued, not dead_lettered` }) reason: string;
}

export class RequeuedView {
  @ApiProperty({ type: [String], description: 'Ids of the missions requeued, in the order they were requeued.', example: [EXAMPLE_MISSION_ID] })
  requeued: string[];

  @ApiProperty({
    type: () => [SkippedRequeueView],
    description: 'Missions that matched but were no longer dead-lettered when their turn came (requeued or cancelled meanwhile): not changed.',
    example: [],
  })
  skipped: SkippedRequeueView[];
}

/** One bad field of a request: what ValidationPipe reports, by path into the body or query. */
export class FieldErrorView {
  @ApiProperty({ description: 'Path of the field, e.g. `source.recordId`.', example: 'priority' })
  field: string;

  @ApiProperty({
    type: [String],
    description: 'Every rule the value broke.',
    example: ['priority must be one of the following values: low, normal, high, critical'],
  })
  problems: string[];
}

/** The one body of every error response. */
export class ErrorBodyView implements ErrorBody {
  @ApiProperty({ type: 'integer', description: 'The HTTP status code, repeated.', example: 400 })
  statusCode: number;

  @ApiProperty({ description: 'The standard reason phrase of the status.', example: 'Bad Request' })
  error: string;

  @ApiProperty({ description: 'What went wrong, for people.', example: 'request validation failed' })
  message: string;

  @ApiProperty({
    type: () => [FieldErrorView],
    description: 'For request validation errors (400) one entry per bad field; empty for every other error.',
  })
  details: FieldErrorView[];
}

export class DailyReportRowView implements DailyReportRow {
  @ApiProperty({ format: 'date', description: 'The UTC day.', example: '2026-05-01' })
  day: string;

  @ApiProperty({ ...MISSION_TYPE_ENUM, example: 'maintenance' })
  type: MissionType;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions created that day.', example: 42 })
  created: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Attempts started (MissionStarted).', example: 45 })
  attempts: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Attempts that failed before a result (MissionFailed).', example: 1 })
  failedAttempts: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Results evaluated.', example: 44 })
  evaluations: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: 1,
    description: "Mean score of the day's evaluations; null when there were none.",
    example: 0.87,
  })
  meanScore: number | null;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'Missions that succeeded: evaluations that passed without a review, and approvals.',
    example: 41,
  })
  succeeded: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions dead-lettered.', example: 1 })
  deadLettered: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Dead-lettered missions requeued by an operator.', example: 0 })
  requeued: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Missions cancelled.', example: 2 })
  cancelled: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Results the review policy held for a reviewer (MissionReviewRequested).', example: 12 })
  reviewsRequested: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Results a reviewer approved (MissionApproved), edited or not.', example: 10 })
  approved: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: "Approvals that replaced the agent's output with the reviewer's edit.", example: 3 })
  edited: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Results a reviewer sent back with feedback (MissionRejected).', example: 1 })
  rejected: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Reviews that waited longer than REVIEW_TIMEOUT_MS (MissionReviewOverdue).', example: 0 })
  reviewsOverdue: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'LLM prompt tokens of the results completed that day.', example: 18900 })
  promptTokens: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'LLM completion tokens of the results completed that day.', example: 4320 })
  completionTokens: number;

  @ApiProperty({ minimum: 0, description: 'LLM cost in USD of those results (0 for models without a price, such as the mock).', example: 0.0189 })
  costUsd: number;
}

export class DailyReportView implements DailyReport {
  @ApiProperty({ format: 'date', example: '2026-05-01' })
  from: string;

  @ApiProperty({ format: 'date', example: '2026-05-07' })
  to: string;

  @ApiProperty({ type: () => [DailyReportRowView], description: 'Oldest day first; per day the types in the order guest_support, pricing, maintenance.' })
  rows: DailyReportRowView[];

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Log entries the report does not include yet; 0 when it is up to date.', example: 0 })
  lagEvents: number;
}

/* Compile-time checks that the views have exactly the keys of what they mirror. */
export type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
export type Assert<T extends true> = T;
export type OpenApiViewsMirrorTheirTypes = [
  Assert<SameKeys<MissionView, ShownMission>>,
  Assert<SameKeys<MissionReviewView, MissionReview>>,
  Assert<SameKeys<ReviewInboxItemView, ReviewInboxItem>>,
  Assert<SameKeys<ReviewPageView, MissionPage<ReviewInboxItem>>>,
  Assert<SameKeys<MissionSourceDto, MissionSource>>,
  Assert<SameKeys<MissionResultView, MissionResult>>,
  Assert<SameKeys<TokenUsageView, TokenUsage>>,
  Assert<SameKeys<EvaluationView, Evaluation>>,
  Assert<SameKeys<CriterionScoreView, CriterionScore>>,
  Assert<SameKeys<MissionEventView, EventEnvelope>>,
  Assert<SameKeys<MissionPageView, MissionPage<ShownMission | UnreadableMission>>>,
  Assert<SameKeys<UnreadableMissionView, UnreadableMission>>,
  Assert<SameKeys<QueueStatsView, QueueStats>>,
  Assert<SameKeys<DeadLetterView, DeadLetterEntry>>,
  Assert<SameKeys<DeadLetterPageView, MissionPage<DeadLetterEntry>>>,
  Assert<SameKeys<ErrorBodyView, ErrorBody>>,
  Assert<SameKeys<DailyReportView, DailyReport>>,
  Assert<SameKeys<DailyReportRowView, DailyReportRow>>,
];

export class AgentVerdictView {
  @ApiProperty() missionId: string;
  @ApiProperty() attempt: number;
  @ApiProperty({ minimum: 0, maximum: 1 }) score: number;
  @ApiProperty() passed: boolean;
  @ApiProperty({ format: 'date-time' }) at: string;
}

export class AgentStatusChangeView implements AgentStatusChange {
  @ApiProperty({ description: 'The reason given with the change.', example: 'paused in the console' }) reason: string;
  @ApiProperty({ description: "Who changed it: the API key's name.", example: 'ops-lena' }) by: string;
  @ApiProperty({ format: 'date-time' }) at: string;
}

/** Mirrors AgentView in libs/agents/src/agent-view.ts; the system prompt is optional (operators only). */
@ApiExtraModels(AgentStatusChangeView)
export class AgentViewSchema implements Omit<AgentView, 'systemPrompt'> {
  @ApiProperty({ example: 'agent-lena' }) id: string;
  @ApiProperty({ example: 'Lena – Front Office (DE/EN)' }) name: string;
  @ApiProperty({ type: [String], example: ['guest_communication', 'german'] }) skills: string[];
  @ApiProperty({ example: 4 }) capacity: number;
  @ApiProperty({ example: 'mock-hotel-1' }) model: string;
  @ApiPropertyOptional({ description: 'The instructions the agent works by. Only in answers to an operator key; omitted for reader and submitter keys.' })
  systemPrompt?: string;
  @ApiProperty({ enum: AGENT_STATUSES }) status: AgentStatus;
  @ApiProperty(
    nullableObject(
      AgentStatusChangeView,
      'The last status change: why, by whom and when; null since registration (and for a record unchanged since before it was kept).',
    ),
  )
  statusChange: AgentStatusChangeView | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      "Who made the last change to the profile or the status: the API key's name (`seed` for the profiles file); null for a record unchanged since before it was kept.",
    example: 'ops-lena',
  })
  updatedBy: string | null;
  @ApiProperty({ example: 100 }) initialCredits: number;
  @ApiProperty({ description: 'Version of the agent record (profile and status events)' }) version: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ description: 'Missions it holds now' }) load: number;
  @ApiProperty({ description: 'Moves with every verdict: + score × 10 on a pass, − 5 on a fail' }) credits: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Rolling mean of verdict scores (each new score weighs 0.2); null before the first' })
  quality: number | null;
  @ApiProperty({ type: [AgentVerdictView], description: 'The last (up to 10) verdicts on its missions, newest first' })
  recentMissions: AgentVerdictView[];
}
