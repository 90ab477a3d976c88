import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Environment } from '@app/config';
import { LlmJudge, permanentFailure, RuleBasedJudge, Verdict } from '@app/evaluation';
import { MissionPersonalData } from '@app/guest-data';
import { decideVerdict, Evaluation, Mission, ReviewPolicy, reviewRuleFor } from '@app/mission';
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
      return { ...verdict, judge: 'rules (LLM judge failed)' };
    }
  }

  async evaluate(completed: Mission): Promise<void> {
    const attempt = completed.attempts;
    // The judge and the review rules read the guest's words and the reply; they stay in memory.
    const plain = await this.personal.openMission(completed);
    const verdict = await this.judge(plain);
    const evaluation: Evaluation = { attempt, ...verdict };
    const agentId = completed.assignedAgentId ?? '';
    const output = plain.result?.output ?? {};
    const reviewRule = verdict.passed ? reviewRuleFor(this.reviewPolicy, { mission: plain, output, score: verdict.score }) : null;
    const permanent = verdict.passed ? null : permanentFailure(plain);
    const options = { backoff: retryBackoff(this.env), reviewRule, ...(permanent ? { permanent } : {}) };
    const outcome = await this.pipeline.transition(completed, (m) => decideVerdict(m, evaluation, this.env.MAX_ATTEMPTS, options), {
      actor: 'evaluator',
    });
    if (outcome.kind === 'appended') {
      this.metrics.verdicts.inc({ agent: agentId, type: completed.type, verdict: verdict.passed ? 'pass' : 'fail' });
      this.metrics.scores.observe({ agent: agentId }, verdict.score);
      const done = outcome.mission;
      if (done.status === 'succeeded')
        this.metrics.timeToSuccess.observe({ type: done.type, priority: done.priority }, (Date.parse(done.updatedAt) - Date.parse(done.createdAt)) / 1000);
    }
    if (outcome.kind === 'appended' && !verdict.passed) {
      const { id: missionId, correlationId } = outcome.mission;
      this.logger.info({ missionId, correlationId, attempt, agentId, score: verdict.score, reason: verdict.reason }, 'evaluation failed');
      if (outcome.mission.status === 'dead_lettered') logDeadLetter(this.logger, outcome.mission);
    }
  }
}
