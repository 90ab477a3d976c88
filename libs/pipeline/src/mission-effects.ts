import { verdictCreditDelta } from '@app/agents';
import { Effect, IdempotencyClaim } from '@app/event-store';
import { AgentReleased } from '@app/messages';
import { deadlineMs, finishes, heldAgent, Mission, MissionEvent, MissionEventType, NOT_JUDGED, SERVICE_ACTORS } from '@app/mission';

/** What the effects of one append may depend on besides its events. */
export interface EffectContext {
  /** The mission before the events (null for a new one) and after them. */
  previous: Mission | null;
  next: Mission;
  /** When the events happen (ms): a queued mission's place in line counts from it. */
  now: number;
  /** The mission's key in the ready queue when queued at `enqueuedAt` (ReadyQueue.score). */
  queueScore(mission: Mission, enqueuedAt: number): number;
  /** A create that may repeat: the idempotency record it claims. */
  idempotency?: IdempotencyClaim;
  /** An assignment: the lease it is made on, which must still be held. */
  leaseId?: string;
}

type EffectRule<T extends MissionEventType> = (event: Extract<MissionEvent, { type: T }>, context: EffectContext) => Effect[];

/**
 * What each mission event causes, besides being logged and folded into the read model: the whole
 * pipeline on one page. Every effect is applied by the append script in the same atomic step as
 * the events, so an event never exists without its consequences or the other way round. An append
 * of several events (a create: MissionCreated + MissionQueued; a failure: MissionFailed +
 * MissionQueued or MissionDeadLettered; a rejection: MissionRejected + MissionQueued or
 * MissionDeadLettered) has the effects of each.
 */
export const MISSION_EFFECTS: { [T in MissionEventType]: EffectRule<T> } = {
  MissionCreated: (event, { idempotency }) => [
    ...(idempotency ? [{ kind: 'idempotency', ...idempotency } as const] : []),
    ...watchDeadline(event.data.deadline),
    // Written with the create, so no crash leaves a mission about a subject that erasure cannot find.
    ...(event.data.subjects ?? []).map((subject) => ({ kind: 'index-subject', subject }) as const),
  ],
  MissionQueued: (_event, context) => [...leftSchedule(context.previous), ...enqueue(context)],
  MissionScheduled: (event) => [{ kind: 'schedule', at: Date.parse(event.data.notBefore), reason: event.data.reason }],
  MissionAssigned: (_event, { leaseId }) => [
    ...(leaseId ? [{ kind: 'require-lease', leaseId } as const] : []),
    { kind: 'emit-mission', pattern: 'mission.assigned' },
  ],
  MissionStarted: () => [],
  MissionCompleted: () => [{ kind: 'emit-mission', pattern: 'mission.completed' }],
  MissionFailed: (event) => [released({ agentId: event.data.agentId, missionId: event.missionId, attempt: event.data.attempt, by: SERVICE_ACTORS.executor })],
  MissionEvaluated: (event, { previous }) => {
    const { attempt, score, passed, judge } = event.data;
    // An attempt no judge saw (NOT_JUDGED) frees the slot and moves neither credits nor quality.
    const credit = judge === NOT_JUDGED ? {} : { credit: { delta: verdictCreditDelta(score, passed), score, passed } };
    return [released({ agentId: previous?.assignedAgentId ?? '', missionId: event.missionId, attempt, ...credit, by: SERVICE_ACTORS.evaluator })];
  },
  MissionDeadLettered: (event, { now }) => [{ kind: 'dead-letter', at: now, reason: event.data.reason }],
  MissionCancelled: (event, { previous }) => [
    { kind: 'leave-queue' },
    { kind: 'leave-dead-letters' },
    ...leftSchedule(previous),
    ...(previous?.status === 'awaiting_review' ? [{ kind: 'leave-reviews' } as const] : []),
    ...heldSlot(previous).map((agentId) => released({ agentId, missionId: event.missionId, attempt: previous?.attempts ?? 0, by: SERVICE_ACTORS.intake })),
  ],
  MissionRequeued: (_event, context) => [{ kind: 'leave-dead-letters' }, ...enqueue(context)],
  // The agent's slot went back with the verdict (MissionEvaluated), so a review holds no agent.
  MissionReviewRequested: (_event, { now }) => [{ kind: 'await-review', at: now }],
  MissionApproved: () => [{ kind: 'leave-reviews' }],
  // The MissionQueued (or MissionDeadLettered) that follows in the same step does the rest.
  MissionRejected: () => [{ kind: 'leave-reviews' }],
  MissionReviewOverdue: () => [{ kind: 'leave-review-deadlines' }],
  MissionOverdue: (_event, { now }) => [
    { kind: 'overdue', at: now },
    { kind: 'count', counter: 'overdue', by: 1 },
  ], // The key is destroyed before; the MissionCancelled of the same step (if any) has its own effects.
  SubjectErased: () => [],
  // A record of what was paid, no more: the attempt it answered is over and its agent's slot went back with its end.
  LateReplyBilled: () => [],
};

/**
 * The event types whose rules above put a mission among the dead letters or take it out of them
 * (`dead-letter`, `leave-dead-letters`), whatever the mission before and after: a replay asks only
 * theirs for a mission's place there, as working out every event's effects for it cost a third of
 * the fold's time. Held to the table by a property test (mission-effects.spec.ts).
 */
export const DEAD_LETTER_EVENT_TYPES: ReadonlySet<MissionEventType> = new Set<MissionEventType>(['MissionDeadLettered', 'MissionCancelled', 'MissionRequeued']);

/**
 * The effects of an append: each event's, in order, and - whichever event did it - those of
 * reaching a final status: a finished mission is off the deadline watch and no longer overdue,
 * and one about data subjects counts its retention from now (RETENTION_DAYS of its type).
 */
export function effectsOf(events: readonly MissionEvent[], context: EffectContext): Effect[] {
  const effects = events.flatMap((event) => (MISSION_EFFECTS[event.type] as EffectRule<MissionEventType>)(event, context));
  const { previous, next, now } = context;
  if (!finishes(previous?.status, next.status)) return effects;
  return [
    ...effects,
    ...(next.deadline !== undefined ? [{ kind: 'leave-deadlines' } as const] : []),
    ...(next.subjects?.length ? [{ kind: 'retain', missionType: next.type, at: now } as const] : []),
  ];
}

/** A mission that was waiting for its time leaves the schedule. */
function leftSchedule(previous: Mission | null): Effect[] {
  return previous?.status === 'scheduled' ? [{ kind: 'leave-schedule' }] : [];
}

/** A deadline that parses is watched, so that passing it unfinished is noticed (MissionOverdue). */
function watchDeadline(deadline: string | undefined): Effect[] {
  const at = deadlineMs(deadline);
  return at === undefined ? [] : [{ kind: 'watch-deadline', deadline: at }];
}

/** Into the ready queue, counted, and the orchestrators told (coalesced). */
function enqueue({ next, now, queueScore }: EffectContext): Effect[] {
  return [
    { kind: 'enqueue', score: queueScore(next, now), enqueuedAt: now, level: next.priority },
    { kind: 'count', counter: 'enqueued', by: 1 },
    { kind: 'nudge-orchestrator' },
  ];
}

/** The agent slot of an ended attempt goes back (and a verdict credits the agent) through the orchestrator. */
function released(data: AgentReleased): Effect {
  return { kind: 'emit', message: { pattern: 'agent.released', data } };
}

/** The agent whose slot the mission held before the event, if any. */
function heldSlot(previous: Mission | null): string[] {
  const agentId = previous ? heldAgent(previous) : null;
  return agentId ? [agentId] : [];
}
