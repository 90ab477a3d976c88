import { Injectable } from '@nestjs/common';
import { Evaluation, Mission, MissionType } from '@app/mission';
import { CriterionChecks } from './check-result';
import { checkGuestSupport } from './guest-support-checks';
import { checkMaintenance } from './maintenance-checks';
import { checkPricing } from './pricing-checks';
import { Rubric, RubricCriterion, RUBRICS } from './rubric';

/** A judge's verdict on an attempt: the evaluation it becomes, before the evaluator names the attempt. */
export type Verdict = Omit<Evaluation, 'attempt'>;

type Checks = (mission: Mission, output: Record<string, unknown>) => CriterionChecks;

const CHECKS: Readonly<Record<MissionType, Checks>> = {
  guest_support: checkGuestSupport,
  pricing: checkPricing,
  maintenance: checkMaintenance,
};

export const ALL_CRITERIA_MET = 'all criteria met';

/** Deterministic and free, so every attempt can be judged, and the same output always gets the same verdict. */
@Injectable()
export class RuleBasedJudge {
  judge(mission: Mission, output: Record<string, unknown>): Verdict {
    const rubric = RUBRICS[mission.type];
    const results = CHECKS[mission.type](mission, output);
    const scored = rubric.criteria.map((criterion) => {
      const result = results[criterion.name];
      if (!result) throw new Error(`rubric ${rubric.version} has no check for ${criterion.name}`);
      return { criterion, score: round(Math.min(1, Math.max(0, result.score))), note: result.note };
    });
    const score = round(scored.reduce((sum, s) => sum + s.criterion.weight * s.score, 0));
    const unmet = scored.filter((s) => s.score < 1);
    const criticalFailed = unmet.some((s) => s.criterion.critical === true);
    const passed = score >= rubric.passThreshold && !criticalFailed;
    return {
      score,
      passed,
      criteria: scored.map((s) => ({ criterion: s.criterion.name, weight: s.criterion.weight, score: s.score })),
      reason: describe(rubric, score, passed, unmet),
      rubricVersion: rubric.version,
      judge: 'rules',
    };
  }
}

function describe(rubric: Rubric, score: number, passed: boolean, unmet: Array<{ criterion: RubricCriterion; note: string }>): string {
  if (unmet.length === 0) return ALL_CRITERIA_MET;
  const verdict = passed
    ? `Passed with score ${score}, but improve`
    : `Failed with score ${score} (needs ${rubric.passThreshold}, critical criteria must be met)`;
  const items = unmet.map((u) => `${u.criterion.name}${u.criterion.critical ? ' (critical)' : ''}: ${u.note}`);
  return `${verdict}: ${items.join('; ')}.`;
}

/** Weights such as 0.3 + 0.25 do not add up exactly in binary floating point. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
