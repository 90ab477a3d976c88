import { MissionType, isPlainObject, validateOutput } from '@app/mission';
import { parseJudgeOutput } from './judge-output';
import type { LlmRequest } from './llm-client';
import { LlmError, LlmErrorCode } from './llm-error';

/** Parses a reply as what the request asked for: a mission result, or a verdict on one. */
export function parseReplyFor(request: LlmRequest, rawText: string): Record<string, unknown> {
  const judge = request.context.judge;
  return judge ? { ...parseJudgeOutput(rawText, judge.criteria) } : parseLlmOutput(request.context.missionType, rawText);
}

/**
 * Turns a model's text into a schema-valid output or throws LlmError(MalformedOutput). Retryable,
 * because a model that rambled once usually answers cleanly the next time.
 */
export function parseLlmOutput(type: MissionType, rawText: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseModelJson(rawText);
  } catch (error) {
    throw new LlmError(LlmErrorCode.MalformedOutput, `output is not valid JSON: ${jsonParseFailure(error)}`, true);
  }
  const problems = validateOutput(type, parsed);
  if (problems.length > 0 || !isPlainObject(parsed)) {
    throw new LlmError(LlmErrorCode.MalformedOutput, `output does not match the ${type} schema: ${problems.join('; ')}`, true);
  }
  return parsed;
}

/**
 * What JSON.parse said about a model's text, without the text: it quotes the start of it, which
 * may be the guest's reply, and the error ends up in plain in MissionFailed and the logs.
 */
export function jsonParseFailure(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/"[\s\S]*"(\.\.\.)?/, '<the text>');
}

/**
 * A model's JSON answer, its code fence ignored and its texts' line breaks made LF: a model that
 * writes CRLF (or a lone CR) is not wrong, and the text rule refuses a carriage return, which
 * rewrites a terminal's line; the attempt (or the verdict) would fail, billed. Throws as JSON.parse.
 */
export function parseModelJson(rawText: string): unknown {
  return JSON.parse(stripCodeFence(rawText), (_key, value: unknown) => (typeof value === 'string' ? value.replace(/\r\n?/g, '\n') : value));
}

/** Chat models like to wrap JSON in ```json fences even when told not to. */
function stripCodeFence(text: string): string {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/.exec(text);
  return fenced ? fenced[1] : text;
}
