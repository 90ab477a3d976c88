import { AppendContext, AppendResult, MissionStore, TransitionOptions, TransitionOutcome } from '@app/event-store';
import { Decision, Mission, NewMissionEvent, withLateness } from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';
import { EffectContext, effectsOf } from './mission-effects';

/** Who changes a mission, and what only the caller knows of the change. */
export interface PipelineContext extends AppendContext {
  /** A create that may repeat: the idempotency record it claims. */
  idempotency?: EffectContext['idempotency'];
  /** An assignment: the lease it is made on. */
  leaseId?: string;
}

/**
 * Changes missions through the event store with the consequences MISSION_EFFECTS gives their
 * events. Callers say what happened (a decision) and pass the context only they know; what follows
 * from it - queue moves, messages to other services - is the table's.
 */
export class MissionPipeline {
  constructor(
    private readonly store: MissionStore,
    private readonly queue: ReadyQueue,
  ) {}

  /** Appends to a mission at the version of `mission` (null: a new one). */
  append(missionId: string, mission: Mission | null, events: readonly NewMissionEvent[], context: PipelineContext): Promise<AppendResult> {
    return this.store.append(missionId, mission, events, context, this.effects(context));
  }

  /** The mission as stored now: for a handler that must know whether its message is stale before costly work. */
  load(missionId: string): Promise<Mission | null> {
    return this.store.load(missionId);
  }

  /**
   * Decides on the mission and appends; on a version conflict reloads and decides again. Whatever
   * finishes a mission past its deadline records the MissionOverdue no deadline check has yet
   * (withLateness), at the time of the append: the time watch no longer sees a finished mission.
   */
  transition(
    start: Mission | string,
    decide: (mission: Mission) => Decision,
    context: PipelineContext,
    options: TransitionOptions = {},
  ): Promise<TransitionOutcome> {
    return this.store.transition(start, (mission, now) => withLateness(mission, decide(mission), now), context, this.effects(context), options);
  }

  private effects({ idempotency, leaseId }: PipelineContext) {
    return (next: Mission, appended: Parameters<typeof effectsOf>[0], previous: Mission | null) =>
      effectsOf(appended, {
        previous,
        next,
        now: Date.parse(appended[0].at),
        queueScore: (mission, enqueuedAt) => this.queue.score(mission, enqueuedAt),
        idempotency,
        leaseId,
      });
  }
}
