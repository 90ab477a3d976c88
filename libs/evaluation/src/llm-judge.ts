import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataBlock, fillTemplate, JudgeOutput, judgeOutputSchema, LlmClient, missionDataBlock } from '@app/llm';
import { Mission } from '@app/mission';
import { RUBRICS } from './rubric';
import { Verdict } from './rule-based-judge';

/** An LLM's scores are not as crisp as rules: a critical criterion counts as met from this score. */
export const LLM_CRITICAL_MIN_SCORE = 0.8;

const SYSTEM_PROMPT = 'You are a strict, fair reviewer of AI agents at a hotel. Answer only with the JSON object asked for.';

let template: string | undefined;
function judgeTemplate(): string {
  template ??= readFileSync(join(__dirname, 'prompts', 'judge.md'), 'utf8');
  return template;
}

/**
 * The second judge: asks a model (through the same LlmClient as the executor) to score the result
 * against the mission type's rubric; the weights, threshold and critical criteria stay the rubric's.
 */
export class LlmJudge {
  constructor(
    private readonly llm: LlmClient,
    private readonly timeoutMs: number,
  ) {}

  /** `signal` ends the model's call (a stopping evaluator), as it ends the executor's. */
  async judge(mission: Mission, output: Record<string, unknown>, signal?: AbortSignal): Promise<Verdict> {
    const rubric = RUBRICS[mission.type];
    const names = rubric.criteria.map((c) => c.name);
    const prompt = fillTemplate(judgeTemplate(), {
      missionType: mission.type,
      mission: missionDataBlock(mission),
      output: dataBlock('agent-result', output),
      rubricVersion: rubric.version,
      criteria: rubric.criteria.map((c) => `- \`${c.name}\` (weight ${c.weight}${c.critical ? ', critical' : ''}): ${c.description}`).join('\n'),
    });
    const response = await this.llm.complete({
      systemPrompt: SYSTEM_PROMPT,
      messages: [{ role: 'user', content: prompt }],
      outputSchema: judgeOutputSchema(names),
      timeoutMs: this.timeoutMs,
      signal,
      context: {
        missionId: mission.id,
        attempt: mission.attempts,
        missionType: mission.type,
        title: mission.title,
        description: mission.description,
        payload: mission.payload,
        judge: { criteria: names },
      },
    });
    const answer = response.output as unknown as JudgeOutput;
    const scoreOf = new Map(answer.criteria.map((c) => [c.criterion, Math.round(c.score * 1000) / 1000]));
    const criteria = rubric.criteria.map((c) => ({ criterion: c.name, weight: c.weight, score: scoreOf.get(c.name) ?? 0 }));
    const score = Math.round(criteria.reduce((sum, c) => sum + c.weight * c.score, 0) * 1000) / 1000;
    const criticalMissed = rubric.criteria.some((c) => c.critical && (scoreOf.get(c.name) ?? 0) < LLM_CRITICAL_MIN_SCORE);
    return {
      score,
      passed: score >= rubric.passThreshold && !criticalMissed,
      criteria,
      reason: answer.reason,
      rubricVersion: rubric.version,
      judge: `llm:${response.model}`,
      usage: response.usage,
      ...(response.costUsd === undefined ? {} : { costUsd: response.costUsd }),
    };
  }
}
