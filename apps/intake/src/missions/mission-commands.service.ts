import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { Effect, MissionStore, TransitionOutcome } from '@app/event-store';
import { AgentReleased, Patterns } from '@app/messages';
import { decideCancel, decideRequeue, heldAgent, Mission } from '@app/mission';
import { ReadyQueue } from '@app/mission-queue';

/** Operator commands on existing missions: cancel, and requeue from the dead-letter queue. */
@Injectable()
export class MissionCommandsService {
  constructor(
    private readonly store: MissionStore,
    private readonly queue: ReadyQueue,
  ) {}

  /**
   * Cancels a mission that is not finished: it leaves the queue (or its lease), its agent's slot
   * is freed, and a running executor sees the status and aborts its LLM call.
   */
  async cancel(missionId: string, reason: string, actor: string): Promise<Mission> {
    const outcome = await this.store.transition(missionId, (m) => decideCancel(m, reason), { actor }, (_next, _events, previous) => {
      const agentId = previous ? heldAgent(previous) : null;
      const effects: Effect[] = [{ kind: 'leave-queue' }, { kind: 'leave-dead-letters' }];
      if (agentId && previous) {
        const released: AgentReleased = { agentId, missionId, attempt: previous.attempts, by: 'intake' };
        effects.push({ kind: 'emit', to: 'orchestrator', pattern: Patterns.orchestrator.agentReleased, data: released });
      }
      return effects;
    });
    return this.expectAppended(missionId, outcome, 'cancel');
  }

  async requeue(missionId: string, reason: string, actor: string): Promise<Mission> {
    const now = Date.now();
    const outcome = await this.store.transition(missionId, (m) => decideRequeue(m, reason), { actor }, (next): Effect[] => [
      { kind: 'leave-dead-letters' },
      { kind: 'enqueue', score: this.queue.score(next.priorityScore, now), enqueuedAt: now, level: next.priority },
      { kind: 'count', counter: 'enqueued', by: 1 },
      { kind: 'nudge-orchestrator' },
    ]);
    return this.expectAppended(missionId, outcome, 'requeue');
  }

  private expectAppended(missionId: string, outcome: TransitionOutcome, command: string): Mission {
    if (outcome.kind === 'appended') return outcome.mission;
    if (outcome.kind === 'not_found') throw new NotFoundException(`mission ${missionId} not found`);
    if (outcome.kind === 'skipped') throw new ConflictException(`cannot ${command} mission ${missionId}: ${outcome.reason}`);
    throw new ConflictException(`cannot ${command} mission ${missionId} now`);
  }
}
