import { isPlainObject, MULTI_LINE, OUTPUT_TEXT_MAX_LENGTH, textProblem } from '@app/mission';
import { LlmError, LlmErrorCode } from './llm-error';
import { jsonParseFailure, parseModelJson } from './parse-output';

/** What an LLM judge returns: a score per rubric criterion and a reason. */
export interface JudgeOutput {
  criteria: { criterion: string; score: number }[];
  reason: string;
}

export function judgeOutputSchema(criteria: readonly string[]): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['criteria', 'reason'],
    properties: {
      criteria: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['criterion', 'score'],
          properties: { criterion: { type: 'string', enum: [...criteria] }, score: { type: 'number', minimum: 0, maximum: 1 } },
        },
      },
      reason: { type: 'string', maxLength: OUTPUT_TEXT_MAX_LENGTH },
    },
  };
}

/** Problems with a judge's answer: every criterion scored once, in 0..1, and a reason. */
export function validateJudgeOutput(output: unknown, criteria: readonly string[]): string[] {
  if (!isPlainObject(output)) return ['the verdict must be a JSON object'];
  const problems: string[] = [];
  // Bounded as an agent's text is: the reason is stored in the log for good, and a failing verdict's
  // is the next attempt's review feedback, sent in its prompt (a 3 MB reason was, and billed).
  if (typeof output.reason !== 'string') problems.push('reason must be a string');
  else if (output.reason.length > OUTPUT_TEXT_MAX_LENGTH) problems.push(`reason must be at most ${OUTPUT_TEXT_MAX_LENGTH} characters`);
  else {
    const problem = textProblem(output.reason, MULTI_LINE);
    if (problem) problems.push(`reason ${problem}`);
  }
  if (!Array.isArray(output.criteria)) return [...problems, 'criteria must be an array'];
  const seen = new Set<string>();
  for (const entry of output.criteria as unknown[]) {
    if (!isPlainObject(entry) || typeof entry.criterion !== 'string' || typeof entry.score !== 'number') {
      problems.push('each criteria entry needs criterion (string) and score (number)');
      continue;
    }
    // Not quoted: it is the model's text, which may name the guest; the rubric's names are quoted.
    if (!criteria.includes(entry.criterion)) {
      problems.push(`a criterion not in the rubric (${criteria.join(', ')})`);
      continue;
    }
    if (!(entry.score >= 0 && entry.score <= 1)) problems.push(`score of ${entry.criterion} must be within 0..1`);
    seen.add(entry.criterion);
  }
  for (const name of criteria) if (!seen.has(name)) problems.push(`criterion ${name} is not scored`);
  return problems;
}

export function parseJudgeOutput(rawText: string, criteria: readonly string[]): JudgeOutput {
  let parsed: unknown;
  try {
    parsed = parseModelJson(rawText);
  } catch (error) {
    throw new LlmError(LlmErrorCode.MalformedOutput, `verdict is not valid JSON: ${jsonParseFailure(error)}`, true);
  }
  const problems = validateJudgeOutput(parsed, criteria);
  if (problems.length > 0) throw new LlmError(LlmErrorCode.MalformedOutput, `verdict does not match the judge schema: ${problems.join('; ')}`, true);
  return parsed as JudgeOutput;
}
