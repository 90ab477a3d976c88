import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { TransitionOutcome } from '@app/event-store';
import { decideCancel, decideRequeue, Mission } from '@app/mission';
import { MissionPipeline } from '@app/pipeline';

/** Operator commands on existing missions: cancel, and requeue from the dead-letter queue. */
@Injectable()
export class MissionCommandsService {
  constructor(private readonly pipeline: MissionPipeline) {}

  /**
   * Cancels a mission that is not finished: it leaves the queue (or its lease), its agent's slot
   * is freed, and a running executor sees the status and aborts its LLM call.
   */
  async cancel(missionId: string, reason: string, actor: string): Promise<Mission> {
    const outcome = await this.pipeline.transition(missionId, (m) => decideCancel(m, reason), { actor });
    return this.expectAppended(missionId, outcome, 'cancel');
  }

  async requeue(missionId: string, reason: string, actor: string): Promise<Mission> {
    const outcome = await this.pipeline.transition(missionId, (m) => decideRequeue(m, reason), { actor });
    return this.expectAppended(missionId, outcome, 'requeue');
  }

  private expectAppended(missionId: string, outcome: TransitionOutcome, command: string): Mission {
    if (outcome.kind === 'appended') return outcome.mission;
    if (outcome.kind === 'not_found') throw new NotFoundException(`mission ${missionId} not found`);
    if (outcome.kind === 'skipped') throw new ConflictException(`cannot ${command} mission ${missionId}: ${outcome.reason}`);
    throw new ConflictException(`cannot ${command} mission ${missionId} now`);
  }
}
