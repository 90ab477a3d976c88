import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { v7 as uuidv7 } from 'uuid';
import { Environment } from '@app/config';
import { LlmJudge, permanentFailure, RuleBasedJudge, Verdict } from '@app/evaluation';
import { MissionStore, TransitionOutcome } from '@app/event-store';
import { GuestDataError, MissionPersonalData } from '@app/guest-data';
import { LlmError } from '@app/llm';
import {
  billedFor,
  decideLateReply,
  decideVerdict,
  Evaluation,
  LateReply,
  Mission,
  NOT_JUDGED,
  ReviewPolicy,
  reviewRuleFor,
  SERVICE_ACTORS,
  staleEvaluation,
} from '@app/mission';
import { logDeadLetter, MissionPipeline, retryBackoff } from '@app/pipeline';
import { ENVIRONMENT } from '@app/runtime';
import { EvaluationMetrics } from './evaluation-metrics';

/** The review policy the evaluator applies to passing results (REVIEW_POLICY_FILE). */
export const REVIEW_POLICY = Symbol('REVIEW_POLICY');

/**
 * Judges a completed attempt: a pass → succeeded, or awaiting_review when the review policy asks
 * for a reviewer; a fail → the next attempt after its backoff, or the mission dead-lettered once
 * MAX_ATTEMPTS are used (at once when its own constraints make every attempt fail, see
 * permanentFailure), in the same step as the verdict.
 */
@Injectable()
export class EvaluationService {
  constructor(
    private readonly pipeline: MissionPipeline,
    private readonly store: MissionStore,
    @Inject(ENVIRONMENT) private readonly env: Environment,
    private readonly rules: RuleBasedJudge,
    @Optional() @Inject(LlmJudge) private readonly llmJudge: LlmJudge | null,
    @InjectPinoLogger(EvaluationService.name) private readonly logger: PinoLogger,
    private readonly metrics: EvaluationMetrics,
    @Inject(REVIEW_POLICY) private readonly reviewPolicy: ReviewPolicy,
    private readonly personal: MissionPersonalData,
  ) {}

  /** The LLM judge when configured; the rules when it is not, or when the LLM cannot answer. */
  private async judge(mission: Mission): Promise<Verdict> {
    const output = mission.result?.output ?? {};
    if (!this.llmJudge) return this.rules.judge(mission, output);
    try {
      return await this.llmJudge.judge(mission, output);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      this.logger.warn({ missionId: mission.id, correlationId: mission.correlationId, error: why }, 'LLM judge failed; judging by the rules');
      const verdict = this.rules.judge(mission, output);
      // A reply the provider billed but the judge could not use was paid for all the same.
      const billed = error instanceof LlmError ? error.billed : undefined;
      return { ...verdict, judge: 'rules (LLM judge failed)', ...(billed ? billedFor(billed) : {}) };
    }
  }

  /**
   * Judges the completed attempt and records the verdict. A `redelivered` message (its first
   * delivery's evaluator died before the ack) is checked against the stored mission first: when
   * its verdict was recorded then, the judge is not asked again. With the LLM judge every message
   * is: a call the provider bills is not made for a mission cancelled (or its attempt judged)
   * while the message waited, at the price of one read per mission; the rules cost less than it.
   */
  async evaluate(completed: Mission, { redelivered = false }: { redelivered?: boolean } = {}): Promise<void> {
    const attempt = completed.attempts;
    if (redelivered || this.llmJudge) {
      const current = await this.pipeline.load(completed.id);
      if (!current || staleEvaluation(current, attempt)) return;
    }
    // The judge and the review rules read the guest's words and the reply; they stay in memory.
    let plain: Mission;
    try {
      plain = await this.personal.openMission(completed);
    } catch (error) {
      // A field that fails authentication (or another master key's) fails the same at every
      // redelivery: thrown, the message would end in the poison stream and the mission stay
      // evaluating with its agent's slot. The attempt fails instead, and the retry rules go on.
      if (!(error instanceof GuestDataError)) throw error;
      return this.record(completed, unjudgeable(attempt, error.message));
    }
    const verdict = await this.judge(plain);
    // A billed judge call is named, so that it is recorded once: by its verdict, or else as billed late (staleVerdict).
    const evaluation: Evaluation = { attempt, ...verdict, ...(verdict.usage ? { runId: uuidv7() } : {}) };
    const output = plain.result?.output ?? {};
    const reviewRule = verdict.passed ? reviewRuleFor(this.reviewPolicy, { mission: plain, output, score: verdict.score }) : null;
    const permanent = verdict.passed ? null : permanentFailure(plain);
    await this.record(completed, evaluation, { reviewRule, ...(permanent ? { permanent } : {}) });
  }

  /**
   * Records a failed verdict no judge gave on the attempt `completed` stands for, unless it was
   * judged already: the evaluator could not handle its message at all (settleOnLastDelivery), and
   * the message will not come again.
   */
  async abandon(completed: Mission, reason: string): Promise<void> {
    await this.record(completed, unjudgeable(completed.attempts, reason));
  }

  /**
   * Appends the verdict with what follows it (success, review, the next attempt or the dead letters),
   * and counts it; a verdict the mission's state made moot records only the judge's billed call.
   */
  private async record(completed: Mission, evaluation: Evaluation, options: { reviewRule?: string | null; permanent?: string } = {}): Promise<void> {
    const { attempt } = evaluation;
    const agentId = completed.assignedAgentId ?? '';
    const outcome = await this.pipeline.transition(
      completed,
      (m) => decideVerdict(m, evaluation, this.env.MAX_ATTEMPTS, { backoff: retryBackoff(this.env), ...options }),
      { actor: SERVICE_ACTORS.evaluator },
    );
    if (outcome.kind === 'skipped') await this.staleVerdict(outcome, agentId, evaluation, completed.version);
    const judged = evaluation.judge !== NOT_JUDGED;
    if (outcome.kind === 'appended') {
      this.metrics.verdicts.inc({ agent: agentId, type: completed.type, verdict: evaluation.passed ? 'pass' : judged ? 'fail' : 'not_judged' });
      if (judged) this.metrics.scores.observe({ agent: agentId }, evaluation.score);
      // A pass the review policy holds succeeds later, by the intake's approval: observed there.
      this.metrics.timeToSuccess.observe(outcome.mission);
    }
    if (outcome.kind === 'appended' && !evaluation.passed) {
      const { id: missionId, correlationId } = outcome.mission;
      this.logger.info({ missionId, correlationId, attempt, agentId, score: evaluation.score, reason: evaluation.reason }, 'evaluation failed');
      if (outcome.mission.status === 'dead_lettered') logDeadLetter(this.logger, outcome.mission);
    }
  }

  /**
   * A verdict that can no longer be recorded (the mission cancelled while the judge thought, by a
   * client or a subject's erasure, or the attempt judged already by another delivery) changes
   * nothing, but the LLM judge's call it holds was billed all the same: it is recorded as
   * LateReplyBilled, so the log, and the daily report read from it, hold what the mission cost.
   * Not when the verdict met is this judging's own (its append took effect, its reply lost with
   * the connection): that verdict carries the call already, and comes after the completion judged
   * (`completedVersion`), so only the events since are read.
   */
  private async staleVerdict(
    skipped: Extract<TransitionOutcome, { kind: 'skipped' }>,
    agentId: string,
    evaluation: Evaluation,
    completedVersion: number,
  ): Promise<void> {
    const { attempt, usage, costUsd, runId } = evaluation;
    if (!usage || runId === undefined) return;
    const { id: missionId, correlationId } = skipped.mission;
    if (await this.store.lastEventOfType(missionId, 'MissionEvaluated', (event) => event.data.runId === runId, completedVersion)) return;
    const late: LateReply = { attempt, agentId, billed: billedFor({ usage, costUsd }), runId, judge: true };
    const recorded = await this.pipeline.transition(skipped.mission, (m) => decideLateReply(m, late), { actor: SERVICE_ACTORS.evaluator });
    if (recorded.kind === 'appended') this.logger.info({ missionId, correlationId, attempt, runId, reason: skipped.reason }, "judge's billed reply recorded");
  }
}

/** The failed verdict on an attempt no judge saw (its guest data could not be opened, or its message not handled). */
function unjudgeable(attempt: number, why: string): Evaluation {
  return { attempt, score: 0, passed: false, criteria: [], reason: `not judged: ${why}`, rubricVersion: 'none', judge: NOT_JUDGED };
}
