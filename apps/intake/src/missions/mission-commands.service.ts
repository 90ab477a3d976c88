import { ConflictException, Inject, Injectable } from '@nestjs/common';
import { Environment } from '@app/config';
import { MissionStore, TransitionOptions, TransitionOutcome } from '@app/event-store';
import { MissionPersonalData } from '@app/guest-data';
import { Approval, decideApprove, decideCancel, decideReject, decideRequeue, Mission, unerasedSubjects } from '@app/mission';
import { MissionPipeline } from '@app/pipeline';
import { ENVIRONMENT } from '@app/runtime';
import { isUnopenableGuestData } from '../http/unavailable-guest-data';
import { assertEditedOutput, readsErased } from '../reviews/edited-output';
import { ReviewMetrics } from '../reviews/review-metrics';
import { PendingErasures } from '../subjects/pending-erasures';
import { missionNotFound } from './mission-not-found';

/** Commands on existing missions: cancel, requeue from the dead-letter queue, approve or reject a result under review. */
@Injectable()
export class MissionCommandsService {
  constructor(
    private readonly pipeline: MissionPipeline,
    private readonly store: MissionStore,
    private readonly personal: MissionPersonalData,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly reviewMetrics: ReviewMetrics,
    private readonly erasures: PendingErasures,
  ) {}

  /**
   * Cancels a mission that is not finished: it leaves the queue (or its lease), its agent's slot
   * is freed, and a running executor sees the status and aborts its LLM call. Unlike the other
   * commands it is taken on a mission whose guest data is damaged (decidable): it needs none, sends
   * none anywhere, and is how such a mission is stopped for good.
   */
  async cancel(missionId: string, reason: string, actor: string): Promise<Mission> {
    const mission = await this.store.load(missionId);
    if (!mission) throw missionNotFound(missionId);
    await this.answerable(mission);
    const outcome = await this.pipeline.transition(mission, (m) => decideCancel(m, reason), { actor });
    return this.expectAppended(missionId, outcome, 'cancel');
  }

  /**
   * A cancel's answer shows the mission, opened: a master key this intake lacks makes that the 503 it
   * is for any request about the mission, so it comes before anything is recorded. Answered after,
   * the client sent the cancel again and was told the mission was already cancelled. Guest data that
   * cannot be opened for a reason of its own mission shows as unavailable, and the cancel is taken.
   */
  private async answerable(mission: Mission): Promise<void> {
    try {
      await this.personal.openMission(mission);
    } catch (error) {
      if (!isUnopenableGuestData(error)) throw error;
    }
  }

  async requeue(missionId: string, reason: string, actor: string): Promise<Mission> {
    const { mission } = await this.decidable(missionId, 'requeue');
    const outcome = await this.pipeline.transition(mission, (m) => decideRequeue(m, reason), { actor }, this.stillDecidable('requeue'));
    return this.expectAppended(missionId, outcome, 'requeue');
  }

  /**
   * A reviewer accepts the result under review, with an edited output that replaces the agent's
   * when given. Of two reviewers deciding at once, the second finds the mission decided: 409; so
   * does one whose `attempt` (the result they looked at) is no longer the one under review.
   */
  async approve(missionId: string, approval: Approval, actor: string): Promise<Mission> {
    const { mission, plain } = await this.decidable(missionId, 'approve');
    const recorded = approval.output ? await this.sealedEdit(mission, plain, approval, approval.output) : approval;
    const outcome = await this.pipeline.transition(mission, (m) => decideApprove(m, recorded), { actor }, this.stillDecidable('approve'));
    // The pass the evaluator recorded was held for review: this append is the success.
    if (outcome.kind === 'appended') this.reviewMetrics.timeToSuccess.observe(outcome.mission);
    return this.expectAppended(missionId, outcome, 'approve');
  }

  /**
   * A reviewer sends the result back with feedback: the next attempt, or the dead letters after
   * MAX_REVIEW_ROUNDS. With `attempt`, only that attempt's result (409 once another is under review).
   */
  async reject(missionId: string, feedback: string, actor: string, attempt?: number): Promise<Mission> {
    const { mission } = await this.decidable(missionId, 'reject');
    const outcome = await this.pipeline.transition(
      mission,
      (m) => decideReject(m, feedback, this.env.MAX_REVIEW_ROUNDS, attempt),
      { actor },
      this.stillDecidable('reject'),
    );
    return this.expectAppended(missionId, outcome, 'reject');
  }

  /**
   * A reviewer's edit, checked against the agent's output in plain (its sealed fields are strings
   * whatever they hold), then sealed like that output: its personal fields (PERSONAL_FIELDS, e.g. a
   * guest_support reply) are stored only encrypted. The others (all of a pricing or maintenance
   * edit) are recorded as typed, in plain, for good: assertEditedOutput refuses an `@` in them, as
   * in a reviewer's note.
   */
  private async sealedEdit(mission: Mission, plain: Mission, approval: Approval, output: Record<string, unknown>): Promise<Approval> {
    const missionId = mission.id;
    // A mission no longer under review is a 409 whatever the edit: checked against its output, it
    // would be a 400 about fields that may read [erased] by now.
    const decision = decideApprove(mission, approval);
    if (decision.kind === 'skip') throw notDone(missionId, 'approve', decision.reason);
    // An erasure between its key's destruction and its events: the edit checked against "[erased]"
    // was a 400 blaming the reviewer's fields ("actions must be a string").
    if (plain.result && readsErased(plain.result.output)) throw notDone(missionId, 'approve', 'its guest data was erased; the erasure cancels it');
    if (plain.result) assertEditedOutput(plain, plain.result.output, output);
    // Checked against this attempt's output, so it replaces only this attempt's: a newer one under
    // review by the time it is recorded (another reviewer rejected this one) is a 409.
    return { ...approval, output: await this.personal.sealOutput(mission, output), attempt: mission.attempts };
  }

  /**
   * The mission as stored and with its guest data opened (`plain`), unless an erasure of one of its
   * subjects is under way: it cancels the mission wherever it is, and an approval in between (after
   * a crash, until the sweep finishes it) made a success of a reply that reads [erased], a
   * rejection or requeue sent it to run without its data. Nor when its guest data cannot be opened
   * (altered where it is stored): a 409 before anything is appended. An approval sent the reply no
   * reviewer could read to the guest (webhooks, the ERP), a rejection or requeue sent the mission to
   * an agent that cannot read its request either, and each answered a 500 once recorded, when the
   * response opened the mission. A master key this intake lacks stays the 503 it is, also before.
   */
  private async decidable(missionId: string, command: string): Promise<{ mission: Mission; plain: Mission }> {
    const mission = await this.store.load(missionId);
    if (!mission) throw missionNotFound(missionId);
    return { mission, plain: await this.opened(mission, command) };
  }

  /**
   * The same checks on the mission a version conflict reloads, before the command is decided on it
   * again: an erasure or damage that came with the change that moved the version was passed over.
   */
  private stillDecidable(command: string): TransitionOptions {
    return { afterConflict: async (reloaded) => void (await this.opened(reloaded, command)) };
  }

  /** `mission` with its guest data opened, or the 409 saying why it may not be decided on. */
  private async opened(mission: Mission, command: string): Promise<Mission> {
    if (await this.erasures.anyOf(unerasedSubjects(mission))) throw notDone(mission.id, command, ERASING);
    try {
      return await this.personal.openMission(mission);
    } catch (error) {
      if (isUnopenableGuestData(error)) throw notDone(mission.id, command, DAMAGED);
      throw error;
    }
  }

  private expectAppended(missionId: string, outcome: TransitionOutcome, command: string): Mission {
    if (outcome.kind === 'appended') return outcome.mission;
    if (outcome.kind === 'not_found') throw missionNotFound(missionId);
    if (outcome.kind === 'skipped') throw notDone(missionId, command, outcome.reason);
    throw new ConflictException(`cannot ${command} mission ${missionId} now`);
  }
}

/** Why a command waits for an erasure; as the erasure's own 409s, it names no subject. */
const ERASING = 'its guest data is being erased; the erasure cancels it';

/** Why a command is refused on a mission whose guest data cannot be opened: who is to act, and that nothing was done. */
const DAMAGED =
  'its guest data is damaged (it fails its integrity check where it is stored, so it cannot be shown or sent); nothing was recorded. ' +
  'Call an operator and give them the mission id (`replay verify` finds where it was changed); a cancel is still taken';

function notDone(missionId: string, command: string, reason: string): ConflictException {
  return new ConflictException(`cannot ${command} mission ${missionId}: ${reason}`);
}
