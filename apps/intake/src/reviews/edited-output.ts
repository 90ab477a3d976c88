import { BadRequestException } from '@nestjs/common';
import { ERASED_MARKER } from '@app/guest-data';
import { Mission, unusableRate, validateOutput } from '@app/mission';

/**
 * Whether the agent's output, opened, reads erased: its guest's key is destroyed and the erasure,
 * which cancels the mission, is under way. Its fields are the marker then, not the agent's kinds.
 */
export function readsErased(original: Record<string, unknown>): boolean {
  return Object.values(original).some((value) => value === ERASED_MARKER || (Array.isArray(value) && value.includes(ERASED_MARKER)));
}

/** The kinds of value a result's fields hold (the output schemas of libs/llm use only these). */
function kindOf(value: unknown): string {
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number' && Number.isFinite(value)) return 'a finite number';
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return 'an array of strings';
  return 'something else';
}

/**
 * Refuses a reviewer's edit that is not shaped like the agent's output it replaces (the same
 * fields, each of the same kind) or that its mission type's output schema refuses, as it refused
 * the agent's: text that breaks the text rule, an empty reply, a language, currency or urgency it
 * does not know would reach the guest or the ERP. A pricing edit must keep a usable
 * rate (unusableRate), which the judge never sees again.
 */
export function assertEditedOutput(mission: Mission, original: Record<string, unknown>, output: Record<string, unknown>): void {
  const problems: string[] = [];
  for (const key of Object.keys(original)) if (!Object.hasOwn(output, key)) problems.push(`${key} is required`);
  for (const [key, value] of Object.entries(output)) {
    if (!Object.hasOwn(original, key)) {
      problems.push(`${key} is not an allowed field`);
      continue;
    }
    const kind = kindOf(original[key]);
    if (kindOf(value) !== kind) problems.push(`${key} must be ${kind}`);
  }
  problems.push(...validateOutput(mission.type, output));
  const rate = mission.type === 'pricing' && problems.length === 0 ? unusableRate(mission, output.recommendedRate, output.currency) : null;
  if (rate) problems.push(rate);
  if (problems.length > 0) {
    throw new BadRequestException({
      message: "output is not shaped like the agent's result",
      details: [{ field: 'output', problems: [...new Set(problems)] }],
    });
  }
}
