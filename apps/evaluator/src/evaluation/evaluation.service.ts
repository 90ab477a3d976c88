import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AgentEvent } from '@app/agents';
import { Effect, MissionStore } from '@app/event-store';
import { RuleBasedJudge } from '@app/evaluation';
import { Patterns } from '@app/messages';
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
    private readonly judge: RuleBasedJudge,
    @InjectPinoLogger(EvaluationService.name) private readonly logger: PinoLogger,
    private readonly metrics: EvaluationMetrics,
  ) {}

  async evaluate(completed: Mission): Promise<void> {
    const attempt = completed.attempts;
    const verdict = this.judge.judge(completed, completed.result?.output ?? {});
    const evaluation: Evaluation = { attempt, ...verdict };
    const agentId = completed.assignedAgentId ?? '';
    const delta = verdict.passed ? Math.round(verdict.score * CREDITS_PER_PASS_SCORE * 100) / 100 : CREDITS_PER_FAIL;
    const outcome = await this.store.transition(completed, (m) => decideEvaluate(m, evaluation), { actor: 'evaluator' }, (next): Effect[] => [
      { kind: 'release-agent', agentId },
      {
        kind: 'credit-agent',
        agentId,
        delta,
        score: verdict.score,
        event: {
          type: 'AgentCreditsChanged',
          agentId,
          at: new Date().toISOString(),
          actor: 'evaluator',
          data: { delta, missionId: next.id, attempt, score: verdict.score, passed: verdict.passed },
        } satisfies AgentEvent,
      },
      { kind: 'emit', to: 'orchestrator', pattern: Patterns.orchestrator.agentReleased, data: { agentId } },
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
