import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { Environment } from '@app/config';
import { TransitionOutcome } from '@app/event-store';
import { Approval, decideApprove, decideCancel, decideReject, decideRequeue, Mission } from '@app/mission';
import { MissionPipeline } from '@app/pipeline';
import { ENVIRONMENT } from '@app/runtime';
import { assertEditedOutput } from '../reviews/edited-output';

/** Commands on existing missions: cancel, requeue from the dead-letter queue, approve or reject a result under review. */
@Injectable()
export class MissionCommandsService {
  constructor(
    private readonly pipeline: MissionPipeline,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

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

  /**
   * A reviewer accepts the result under review, with an edited output that replaces the agent's
   * when given. Of two reviewers deciding at once, the second finds the mission decided: 409.
   */
  async approve(missionId: string, approval: Approval, actor: string): Promise<Mission> {
    const outcome = await this.pipeline.transition(
      missionId,
      (mission) => {
        if (approval.output && mission.result) assertEditedOutput(mission.result.output, approval.output);
        return decideApprove(mission, approval);
      },
      { actor },
    );
    return this.expectAppended(missionId, outcome, 'approve');
  }

  /** A reviewer sends the result back with feedback: the next attempt, or the dead letters after MAX_REVIEW_ROUNDS. */
  async reject(missionId: string, feedback: string, actor: string): Promise<Mission> {
    const outcome = await this.pipeline.transition(missionId, (m) => decideReject(m, feedback, this.env.MAX_REVIEW_ROUNDS), { actor });
    return this.expectAppended(missionId, outcome, 'reject');
  }

  private expectAppended(missionId: string, outcome: TransitionOutcome, command: string): Mission {
    if (outcome.kind === 'appended') return outcome.mission;
    if (outcome.kind === 'not_found') throw new NotFoundException(`mission ${missionId} not found`);
    if (outcome.kind === 'skipped') throw new ConflictException(`cannot ${command} mission ${missionId}: ${outcome.reason}`);
    throw new ConflictException(`cannot ${command} mission ${missionId} now`);
  }
}
