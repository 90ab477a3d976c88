import { deadlineMs } from './deadline-ms';
import { evolve } from './evolve';
import { hashString } from './hash-string';
import { isTerminal } from './lifecycle';
import { MissionCreateDto } from './mission-create.dto';
import { CURRENT_SCHEMA_VERSION, Evaluation, MissionEvent, MissionResult, NewMissionEvent, TokenUsage } from './mission-events';
import { Mission } from './mission-state';
import { DEFAULT_SKILLS } from './mission-type';
import { priorityScore } from './priority-score';

/**
 * What a command leads to: events to append, or nothing because the command was already applied
 * or belongs to an attempt that is over (a redelivered message, a late result). Handlers ack a skip.
 */
export type Decision = { kind: 'append'; events: NewMissionEvent[] } | { kind: 'skip'; reason: string };

const append = (...events: NewMissionEvent[]): Decision => ({ kind: 'append', events });
const skip = (reason: string): Decision => ({ kind: 'skip', reason });

/** The skills an agent needs for the mission: those the submitter named, else the type's defaults. */
export function requiredSkillsOf(input: Pick<MissionCreateDto, 'type' | 'requiredSkills'>): string[] {
  return input.requiredSkills?.length ? [...new Set(input.requiredSkills)] : [...DEFAULT_SKILLS[input.type]];
}

/**
 * A new mission: created, then queued - or, with a `notBefore` later than `now`, scheduled until
 * then (without `now`, any `notBefore` schedules it).
 */
export function decideCreate(input: MissionCreateDto, now?: Date): NewMissionEvent[] {
  const requiredSkills = requiredSkillsOf(input);
  const score = priorityScore(input);
  const startLater = input.notBefore !== undefined && (now === undefined || Date.parse(input.notBefore) > now.getTime());
  return [
    {
      type: 'MissionCreated',
      data: {
        type: input.type,
        title: input.title,
        description: input.description,
        priority: input.priority,
        requiredSkills,
        payload: input.payload,
        ...(input.deadline ? { deadline: input.deadline } : {}),
        ...(input.notBefore ? { notBefore: input.notBefore } : {}),
        ...(input.source ? { source: { system: input.source.system, model: input.source.model, recordId: input.source.recordId } } : {}),
        ...(input.subjects?.length ? { subjects: [...new Set(input.subjects)] } : {}),
      },
    },
    startLater
      ? { type: 'MissionScheduled', data: { notBefore: input.notBefore ?? '', reason: 'delayed', priorityScore: score } }
      : { type: 'MissionQueued', data: { priorityScore: score, reason: 'created' } },
  ];
}

/** A scheduled mission whose time has come goes into the ready queue. */
export function decideDue(mission: Mission, now: Date): Decision {
  if (mission.status !== 'scheduled') return skip(`mission is ${mission.status}, not scheduled`);
  if (Date.parse(mission.notBefore ?? '') > now.getTime()) return skip(`mission waits until ${mission.notBefore}`);
  return append({ type: 'MissionQueued', data: { priorityScore: mission.priorityScore, reason: 'due' } });
}

/** `attempt`, when given, is the attempt the agent's slot was claimed for; another one is skipped. */
export function decideAssign(mission: Mission, agentId: string, attempt = mission.attempts + 1): Decision {
  if (mission.status !== 'queued') return skip(`mission is ${mission.status}, not queued`);
  if (attempt !== mission.attempts + 1) return skip(`the slot was claimed for attempt ${attempt}, the next is ${mission.attempts + 1}`);
  return append({ type: 'MissionAssigned', data: { agentId, attempt } });
}

/**
 * `runId` names the executor run that starts the attempt, so the run can recognise its own start
 * when the reply to the append was lost and the retried append meets it.
 */
export function decideStart(mission: Mission, attempt: number, runId?: string): Decision {
  if (mission.attempts !== attempt) return skip(`attempt ${attempt} is stale (current ${mission.attempts})`);
  if (mission.status !== 'assigned') return skip(`attempt ${attempt} already started`);
  const data = { agentId: mission.assignedAgentId ?? '', attempt };
  return append({ type: 'MissionStarted', data: runId === undefined ? data : { ...data, runId } });
}

/** Whether `attempt` is the mission's running attempt, its outcome not yet recorded: its reply is its result. */
function awaitsResult(mission: Mission, attempt: number): boolean {
  return mission.attempts === attempt && mission.status === 'running' && mission.lastError === null;
}

/** `runId` names the executor run that records the result, as on decideStart, for the same reason. */
export function decideComplete(mission: Mission, attempt: number, result: MissionResult, runId?: string): Decision {
  if (!awaitsResult(mission, attempt)) {
    return skip(`result of attempt ${attempt} is stale (mission ${mission.status}, attempt ${mission.attempts})`);
  }
  const data = { agentId: mission.assignedAgentId ?? '', attempt, result };
  return append({ type: 'MissionCompleted', data: runId === undefined ? data : { ...data, runId } });
}

/** What the provider billed for the failed attempt's rejected reply, recorded on its MissionFailed. */
export interface BilledAttempt {
  usage: TokenUsage;
  costUsd?: number;
}

/** What a reply (used or rejected) was billed, as the events record it: its usage, and its cost when the model has a price. */
export function billedFor({ usage, costUsd }: BilledAttempt): BilledAttempt {
  return { usage, ...(costUsd === undefined ? {} : { costUsd }) };
}

/** `runId` names the executor run that records the failure, as on decideComplete. */
export function decideFail(mission: Mission, attempt: number, error: string, billed?: BilledAttempt, runId?: string): Decision {
  if (mission.attempts !== attempt || (mission.status !== 'running' && mission.status !== 'assigned')) {
    return skip(`failure of attempt ${attempt} is stale (mission ${mission.status}, attempt ${mission.attempts})`);
  }
  if (mission.lastError !== null) return skip(`failure of attempt ${attempt} already recorded`);
  const data = { agentId: mission.assignedAgentId ?? '', attempt, error, ...(runId === undefined ? {} : { runId }) };
  if (!billed) return append({ type: 'MissionFailed', data });
  const { usage, costUsd } = billed;
  return append({ type: 'MissionFailed', data: { ...data, usage, ...(costUsd === undefined ? {} : { costUsd }) } });
}

/** A reply that came after its attempt was over, with what the provider billed for it. */
export interface LateReply {
  attempt: number;
  /** The agent whose attempt it was: the one that made the call, or, for the judge's, the one judged. */
  agentId: string;
  billed: BilledAttempt;
  /** The executor run whose call the reply answered, or the evaluator's judging (the judge's); a run makes one call. */
  runId: string;
  /** The LLM judge's reply on the attempt's result, whose verdict could no longer be recorded. */
  judge?: true;
}

/**
 * Records what a late reply was billed, so the log (and the daily report read from it) holds every
 * paid call; the mission's status stays as it is, finished or in a later attempt. Skipped while the
 * attempt still awaits its result, or, for the judge's, its verdict (the reply is then that), when
 * nothing was billed (a server that sent no usage), and when the run's late reply is recorded
 * already (an append retried after its reply was lost meets its own event).
 */
export function decideLateReply(mission: Mission, late: LateReply): Decision {
  const { attempt, agentId, runId, billed, judge } = late;
  if (judge && staleEvaluation(mission, attempt) === null) return skip(`attempt ${attempt} awaits its verdict; the judge's reply is that`);
  if (!judge && awaitsResult(mission, attempt)) return skip(`attempt ${attempt} is still running; its reply is its outcome`);
  const { usage, costUsd } = billed;
  if (usage.promptTokens + usage.completionTokens === 0 && !costUsd) return skip(`late reply of attempt ${attempt} was not billed`);
  if (mission.lateBilledRuns?.includes(runId)) return skip(`late reply of run ${runId} is already recorded`);
  return append({
    type: 'LateReplyBilled',
    data: { attempt, agentId, usage, ...(costUsd === undefined ? {} : { costUsd }), runId, ...(judge ? { judge } : {}) },
  });
}

export function decideEvaluate(mission: Mission, evaluation: Evaluation): Decision {
  const stale = staleEvaluation(mission, evaluation.attempt);
  return stale ? skip(stale) : append({ type: 'MissionEvaluated', data: evaluation });
}

/**
 * Why a verdict on `attempt` can no longer be recorded on the mission as it is (the attempt is
 * over, or judged already); null while it can. The evaluator asks before judging a redelivered
 * message, so a verdict recorded before a crash does not cost a second judge call.
 */
export function staleEvaluation(mission: Mission, attempt: number): string | null {
  if (mission.status !== 'evaluating' || mission.attempts !== attempt) return `evaluation of attempt ${attempt} is stale (mission ${mission.status})`;
  if (mission.evaluation?.attempt === attempt) return `attempt ${attempt} already evaluated`;
  return null;
}

/** How long a failed attempt's next one waits: exponential from `baseMs`, capped at `maxMs`, with jitter. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
  /** When the failure is recorded; the next attempt is due `retryDelayMs` after it. */
  now: Date;
}

/** What decides a failed attempt's follow-up besides the attempts used. */
export interface RetryOptions {
  /** Without one (or with `baseMs` 0), the next attempt is queued at once. */
  backoff?: Backoff;
  /** Why no attempt can ever succeed (a provider's 4xx, contradictory constraints): dead-letter now. */
  permanent?: string;
  /**
   * The least wait before the next attempt (a provider's Retry-After), at most MAX_REQUESTED_WAIT_MS;
   * with a `backoff` the next attempt is scheduled after the longer of the two, even when its `baseMs` is 0.
   */
  waitAtLeastMs?: number;
}

/** The longest wait a provider's Retry-After can ask of the next attempt: one reply cannot park a mission for a day. */
export const MAX_REQUESTED_WAIT_MS = 3_600_000;

/**
 * The wait before the next attempt after `failures` failed ones: the exponential step
 * min(maxMs, baseMs × 2^(failures − 1)), of which the second half is jitter. The jitter comes from
 * the mission id and attempt, not a random source, so the decision stays pure and replayable while
 * missions that failed together still spread out.
 */
export function retryDelayMs(backoff: Pick<Backoff, 'baseMs' | 'maxMs'>, failures: number, missionId: string, attempt: number): number {
  const step = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, failures - 1));
  const jitter = (hashString(`${missionId}:${attempt}`) % 1_000) / 1_000;
  return Math.round(step / 2 + (step / 2) * jitter);
}

/**
 * After a failed execution or a failed evaluation: the next attempt (queued at once, or scheduled
 * after its backoff), or the dead-letter once `maxAttempts` are used or the failure is permanent.
 */
export function decideRetry(mission: Mission, attempt: number, maxAttempts: number, options: RetryOptions = {}): Decision {
  const failedHere =
    mission.attempts === attempt &&
    ((mission.status === 'evaluating' && mission.evaluation?.attempt === attempt && !mission.evaluation.passed) ||
      ((mission.status === 'running' || mission.status === 'assigned') && mission.lastError !== null));
  if (!failedHere) return skip(`attempt ${attempt} needs no retry (mission ${mission.status}, attempt ${mission.attempts})`);
  const lastError = mission.lastError ?? 'unknown failure';
  const used = attemptsSinceRequeue(mission);
  if (options.permanent !== undefined) {
    return append({
      type: 'MissionDeadLettered',
      data: { reason: `permanent failure: ${options.permanent}`, attempts: mission.attempts, lastError },
    });
  }
  if (used >= maxAttempts) {
    return append({
      type: 'MissionDeadLettered',
      data: { reason: `failed ${used} of ${maxAttempts} attempts`, attempts: mission.attempts, lastError },
    });
  }
  const feedback = mission.status === 'evaluating' ? mission.evaluation?.reason : undefined;
  const { backoff } = options;
  const requested = Math.min(MAX_REQUESTED_WAIT_MS, Math.max(0, options.waitAtLeastMs ?? 0));
  if (backoff && (backoff.baseMs > 0 || requested > 0)) {
    const delay = Math.max(requested, backoff.baseMs > 0 ? retryDelayMs(backoff, used, mission.id, attempt) : 0);
    const notBefore = new Date(backoff.now.getTime() + delay).toISOString();
    return append({
      type: 'MissionScheduled',
      data: { notBefore, reason: 'retry', priorityScore: mission.priorityScore, ...(feedback ? { feedback } : {}) },
    });
  }
  return append({
    type: 'MissionQueued',
    data: { priorityScore: mission.priorityScore, reason: 'retry', ...(feedback ? { feedback } : {}) },
  });
}

/**
 * The attempts `MAX_ATTEMPTS` counts: those since the last requeue or reviewer's rejection (all of
 * them before either). A rejected result passed its evaluation, so the attempts that follow are a
 * new try at what the reviewer asked for, limited by MAX_REVIEW_ROUNDS on their own.
 */
export function attemptsSinceRequeue(mission: Mission): number {
  return mission.attempts - Math.max(mission.attemptsAtRequeue ?? 0, mission.attemptsAtRejection ?? 0);
}

/**
 * A failed attempt and what follows it, in one step: the next attempt queued, or the mission
 * dead-lettered once `maxAttempts` are used - so no message has to carry the failure elsewhere.
 */
export function decideFailure(
  mission: Mission,
  attempt: number,
  error: string,
  maxAttempts: number,
  options: RetryOptions & { billed?: BilledAttempt; runId?: string } = {},
): Decision {
  return thenRetry(mission, decideFail(mission, attempt, error, options.billed, options.runId), attempt, maxAttempts, options);
}

/**
 * A verdict; a failing one with its follow-up (next attempt or dead-letter) in the same step. A
 * passing one is held for a reviewer when the review policy's `reviewRule` asks for it.
 */
export function decideVerdict(
  mission: Mission,
  evaluation: Evaluation,
  maxAttempts: number,
  options: RetryOptions & { reviewRule?: string | null } = {},
): Decision {
  const decision = decideEvaluate(mission, evaluation);
  if (!evaluation.passed) return thenRetry(mission, decision, evaluation.attempt, maxAttempts, options);
  if (decision.kind === 'skip' || !options.reviewRule) return decision;
  return append(
    { type: 'MissionEvaluated', data: { ...evaluation, heldForReview: true } },
    { type: 'MissionReviewRequested', data: { rule: options.reviewRule, attempt: evaluation.attempt } },
  );
}

/** A judging's outcome as decideJudged takes it: the verdict, the agent judged, and whether an earlier try recorded it. */
export interface Judged {
  evaluation: Evaluation;
  /** The agent whose attempt was judged (the mission may no longer name it: a cancel releases it). */
  agentId: string;
  /**
   * The log holds this judging's verdict (its `runId`), appended by a try whose reply was lost,
   * though the mission has moved past it (its next attempt assigned, or requeued): the state no
   * longer tells, so the caller reads it from the log after a version conflict.
   */
  verdictRecorded?: boolean;
}

/**
 * What a judging comes to, in one append: its verdict (decideVerdict) while the mission awaits it;
 * else, when the verdict is moot (the mission cancelled while the judge thought, or the attempt
 * judged by another delivery) and holds the LLM judge's billed call, that call as LateReplyBilled.
 * One decision, so that the evaluator writes either with the one append it makes: the version that
 * append expects is the state the choice was made on, and no crash or refusal can come between a
 * moot verdict and the record of what its judge was paid. Skipped when neither is left to record:
 * the verdict is this judging's own (an append that took effect, its reply lost) or its call is
 * recorded as billed already (decideLateReply), or it holds no billed call.
 */
export function decideJudged(
  mission: Mission,
  { evaluation, agentId, verdictRecorded = false }: Judged,
  maxAttempts: number,
  options: RetryOptions & { reviewRule?: string | null } = {},
): Decision {
  const verdict = decideVerdict(mission, evaluation, maxAttempts, options);
  const { attempt, usage, costUsd, runId } = evaluation;
  if (verdict.kind === 'append' || !usage || runId === undefined) return verdict;
  if (verdictRecorded || mission.evaluation?.runId === runId) return skip(`verdict of judging ${runId} already recorded`);
  const late = decideLateReply(mission, { attempt, agentId, billed: billedFor({ usage, costUsd }), runId, judge: true });
  // The verdict's reason says why nothing is written, unless the call is what is already there.
  return late.kind === 'append' || mission.lateBilledRuns?.includes(runId) ? late : verdict;
}

/** The decision's events followed by decideRetry's, decided on the state they lead to. */
function thenRetry(mission: Mission, decision: Decision, attempt: number, maxAttempts: number, options: RetryOptions): Decision {
  if (decision.kind === 'skip') return decision;
  const retry = decideRetry(foldDecided(mission, decision.events), attempt, maxAttempts, options);
  return retry.kind === 'append' ? append(...decision.events, ...retry.events) : decision;
}

/** The state after events not yet stored (evolve reads only their type, data, version and time). */
function foldDecided(mission: Mission, events: readonly NewMissionEvent[]): Mission {
  return events.reduce(
    (state, event, i) =>
      evolve(state, {
        ...event,
        eventId: '',
        missionId: state.id,
        version: mission.version + i + 1,
        at: mission.updatedAt,
        actor: '',
        correlationId: state.correlationId,
        causationId: '',
        schemaVersion: CURRENT_SCHEMA_VERSION,
      } as MissionEvent),
    mission,
  );
}

export function decideCancel(mission: Mission, reason: string): Decision {
  if (isTerminal(mission.status)) return skip(`mission is already ${mission.status}`);
  return append({ type: 'MissionCancelled', data: { reason } });
}

/**
 * The subject's key is destroyed (the caller did that first): SubjectErased on each of its
 * missions, and a mission not finished yet is cancelled in the same step, as its personal fields
 * are gone. Skipped when the mission recorded this erasure already (a repeated or resumed erasure),
 * or is not about the subject.
 */
export function decideEraseSubject(mission: Mission, subjectId: string, reason: string): Decision {
  if (!mission.subjects?.includes(subjectId)) return skip(`mission is not about subject ${subjectId}`);
  if (mission.erasedSubjects?.includes(subjectId)) return skip(`subject ${subjectId} is already erased on this mission`);
  const erased: NewMissionEvent = { type: 'SubjectErased', data: { subjectId, reason } };
  if (isTerminal(mission.status)) return append(erased);
  return append(erased, { type: 'MissionCancelled', data: { reason: `subject ${subjectId} erased: ${reason}` } });
}

export function decideRequeue(mission: Mission, reason: string): Decision {
  if (mission.status !== 'dead_lettered') return skip(`mission is ${mission.status}, not dead_lettered`);
  return append({ type: 'MissionRequeued', data: { reason, priorityScore: mission.priorityScore } });
}

/** What an approving reviewer may add: a note, and an edited output that replaces the agent's. */
export interface Approval {
  note?: string;
  output?: Record<string, unknown>;
  /** The attempt whose result the reviewer looked at (and edited); absent, whichever is under review. */
  attempt?: number;
}

/**
 * Why the mission's result cannot be decided now: it is not under review, or the result under
 * review is of another attempt than the one the reviewer looked at (rejected meanwhile by another
 * reviewer, and a new attempt passed).
 */
function awaitingReview(mission: Mission, reviewedAttempt?: number): string | null {
  if (mission.status !== 'awaiting_review') return `mission is ${mission.status}, not awaiting_review`;
  if (reviewedAttempt !== undefined && reviewedAttempt !== mission.attempts) {
    return `the result under review is of attempt ${mission.attempts} now, not of attempt ${reviewedAttempt}`;
  }
  return null;
}

/** A reviewer accepts the result (possibly edited): the mission has succeeded. */
export function decideApprove(mission: Mission, approval: Approval): Decision {
  const notReviewable = awaitingReview(mission, approval.attempt);
  if (notReviewable) return skip(notReviewable);
  return append({
    type: 'MissionApproved',
    data: {
      attempt: mission.attempts,
      ...(approval.note === undefined ? {} : { note: approval.note }),
      ...(approval.output === undefined ? {} : { output: approval.output }),
    },
  });
}

/** The review round a rejection of the mission's result under review would be: the rejections since its last requeue, and it. */
function rejectionRound(mission: Mission): number {
  return (mission.reviewRounds ?? 0) + 1;
}

/**
 * Whether a rejection of the mission's result under review would be its last review round, which
 * dead-letters it (decideReject): the review inbox says so before the reviewer decides.
 */
export function isLastReviewRound(mission: Mission, maxReviewRounds: number): boolean {
  return rejectionRound(mission) >= maxReviewRounds;
}

/**
 * A reviewer sends the result back with feedback: another attempt is queued with it, or, when this
 * was review round `maxReviewRounds`, the mission is dead-lettered in the same step.
 */
export function decideReject(mission: Mission, feedback: string, maxReviewRounds: number, reviewedAttempt?: number): Decision {
  const notReviewable = awaitingReview(mission, reviewedAttempt);
  if (notReviewable) return skip(notReviewable);
  const round = rejectionRound(mission);
  const rejected: NewMissionEvent = { type: 'MissionRejected', data: { attempt: mission.attempts, feedback, round } };
  if (isLastReviewRound(mission, maxReviewRounds)) {
    return append(rejected, {
      type: 'MissionDeadLettered',
      data: { reason: `rejected in ${round} of ${maxReviewRounds} review rounds`, attempts: mission.attempts, lastError: feedback },
    });
  }
  return append(rejected, { type: 'MissionQueued', data: { priorityScore: mission.priorityScore, reason: 'rejected', feedback } });
}

/** A review waiting `timeoutMs` or longer is overdue, once. */
export function decideReviewOverdue(mission: Mission, now: Date, timeoutMs: number): Decision {
  const notReviewable = awaitingReview(mission);
  if (notReviewable || !mission.review) return skip(notReviewable ?? 'no review was requested');
  if (mission.review.overdueAt) return skip(`the review is overdue since ${mission.review.overdueAt}`);
  const waited = now.getTime() - Date.parse(mission.review.requestedAt);
  if (waited < timeoutMs) return skip(`the review has waited ${waited} ms of ${timeoutMs}`);
  return append({ type: 'MissionReviewOverdue', data: { attempt: mission.review.attempt, requestedAt: mission.review.requestedAt, timeoutMs } });
}

/** Once the deadline has passed with the mission unfinished: one MissionOverdue, never a second. */
export function decideOverdue(mission: Mission, now: Date): Decision {
  if (isTerminal(mission.status)) return skip(`mission is already ${mission.status}`);
  if (mission.overdueAt) return skip(`mission was found overdue at ${mission.overdueAt}`);
  const deadline = deadlineMs(mission.deadline);
  if (deadline === undefined) return skip('mission has no deadline');
  if (deadline > now.getTime()) return skip(`deadline ${mission.deadline} has not passed`);
  return append({ type: 'MissionOverdue', data: { deadline: mission.deadline ?? '' } });
}

/**
 * `decision`, preceded by the mission's MissionOverdue when it finishes the mission at `now`, past a
 * deadline no check has recorded yet. The mission was unfinished when its deadline passed, so it is
 * owed the one MissionOverdue; recorded by the step that finishes it, it needs no event after the
 * final one, and no time watch can miss it between two of its checks (the finish takes the mission
 * off the watch).
 */
export function withLateness(mission: Mission, decision: Decision, now: Date): Decision {
  if (decision.kind === 'skip') return decision;
  // Asked first, as it is cheap: most missions have no deadline, and this runs on every transition.
  const overdue = decideOverdue(mission, now);
  if (overdue.kind === 'skip' || !isTerminal(foldDecided(mission, decision.events).status)) return decision;
  return append(...overdue.events, ...decision.events);
}
