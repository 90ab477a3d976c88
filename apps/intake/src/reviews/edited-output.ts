import { BadRequestException } from '@nestjs/common';
import { ERASED_MARKER } from '@app/guest-data';
import { isKeptInPlain, keptInPlainProblem, Mission, MissionType, PERSONAL_FIELDS, unusableRate, validateOutput } from '@app/mission';
import { FieldErrorBody } from '../http/request-validation.pipe';

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
 * The texts of an edit that are kept in plain and hold an `@` in any form (isKeptInPlain), each
 * named by its path in the body (`output.steps[0]`): every string, and every string in a list, of
 * a field of the agent's output its type does not list as personal (PERSONAL_FIELDS), which the edit is recorded
 * with as typed, in plain, outside every subject's key. A guest's e-mail address there would
 * outlive their erasure and be shown to reader keys, as in a reviewer's note.
 */
function notKeptInPlain(type: MissionType, original: Record<string, unknown>, output: Record<string, unknown>): FieldErrorBody[] {
  const personal: readonly string[] = PERSONAL_FIELDS[type].output;
  const refused: FieldErrorBody[] = [];
  for (const [key, value] of Object.entries(output)) {
    // A field the agent's output lacks is refused by its shape already, and is named once there.
    if (personal.includes(key) || !Object.hasOwn(original, key)) continue;
    const texts: [string, unknown][] = Array.isArray(value) ? value.map((item, i) => [`output.${key}[${i}]`, item]) : [[`output.${key}`, value]];
    for (const [field, text] of texts) if (typeof text === 'string' && !isKeptInPlain(text)) refused.push({ field, problems: [keptInPlainProblem(field)] });
  }
  return refused;
}

/**
 * Refuses a reviewer's edit that is not shaped like the agent's output it replaces (the same
 * fields, each of the same kind) or that its mission type's output schema refuses, as it refused
 * the agent's: text that breaks the text rule, an empty reply, a language, currency or urgency it
 * does not know would reach the guest or the ERP. A pricing edit must keep a usable
 * rate (unusableRate), which the judge never sees again. Nor may the fields kept in plain (all of
 * a pricing or maintenance edit) hold an `@` in any form (notKeptInPlain): each such text is
 * named on its own, as a reviewer's note is.
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
  const inPlain = notKeptInPlain(mission.type, original, output);
  if (problems.length > 0 || inPlain.length > 0) {
    throw new BadRequestException({
      message: problems.length > 0 ? "output is not shaped like the agent's result" : 'request validation failed',
      details: [...(problems.length > 0 ? [{ field: 'output', problems: [...new Set(problems)] }] : []), ...inPlain],
    });
  }
}
