import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Effect, MissionStore } from '@app/event-store';
import { LlmJudge, RuleBasedJudge, Verdict } from '@app/evaluation';
import { AgentReleased, Patterns } from '@app/messages';
import { decideEvaluate, Evaluation, Mission } from '@app/mission';
import { EvaluationMetrics } from './evaluation-metrics';

/** Credits an agent earns for a passing verdict, per point of score (0..1). */
export const CREDITS_PER_PASS_SCORE = 10;
/** Credits an agent loses for a failing verdict. */
export const CREDITS_PER_FAIL = -5;

/** Judges a completed attempt; pass → succeeded, fail → the intake queues a retry or dead-letters. */
@Injectable()
export class EvaluationService {
  constructor(
    private readonly store: MissionStore,
    private readonly rules: RuleBasedJudge,
    @Optional() @Inject(LlmJudge) private readonly llmJudge: LlmJudge | null,
    @InjectPinoLogger(EvaluationService.name) private readonly logger: PinoLogger,
    private readonly metrics: EvaluationMetrics,
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
    const verdict = await this.judge(completed);
    const evaluation: Evaluation = { attempt, ...verdict };
    const agentId = completed.assignedAgentId ?? '';
    const delta = verdict.passed ? Math.round(verdict.score * CREDITS_PER_PASS_SCORE * 100) / 100 : CREDITS_PER_FAIL;
    const released: AgentReleased = { agentId, missionId: completed.id, attempt, credit: { delta, score: verdict.score, passed: verdict.passed }, by: 'evaluator' };
    const outcome = await this.store.transition(completed, (m) => decideEvaluate(m, evaluation), { actor: 'evaluator' }, (next): Effect[] => [
      { kind: 'emit', to: 'orchestrator', pattern: Patterns.orchestrator.agentReleased, data: released },
      ...(verdict.passed
        ? []
        : [{ kind: 'emit', to: 'intake', pattern: Patterns.intake.attemptFailed, data: { missionId: next.id, attempt } } as const]),
    ]);
    if (outcome.kind === 'appended') {
      this.metrics.verdicts.inc({ agent: agentId, type: completed.type, verdict: verdict.passed ? 'pass' : 'fail' });
      this.metrics.scores.observe({ agent: agentId }, verdict.score);
    }
    if (outcome.kind === 'appended' && !verdict.passed) {
      const { id: missionId, correlationId } = outcome.mission;
      this.logger.info({ missionId, correlationId, attempt, agentId, score: verdict.score, reason: verdict.reason }, 'evaluation failed');
    }
  }
}
