import { findForbiddenKey, isPlainObject } from '@app/mission';
import { describeProblems, submitMissionProblems } from './message-checks';
import { SubmitMissionCommand } from './submit-mission.command';

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Checks a `mission.submit` command the way the HTTP API checks a create: unknown fields are errors. */
export function validateSubmitMission(data: unknown): Validated<SubmitMissionCommand> {
  if (!isPlainObject(data)) return { ok: false, problems: ['message data must be a JSON object'] };
  const forbidden = findForbiddenKey(data);
  if (forbidden) return { ok: false, problems: [`key "${forbidden}" is not allowed`] };
  const problems = submitMissionProblems(data);
  // submitMissionProblems checked every field SubmitMissionCommand declares and refused any other.
  return problems.length === 0 ? { ok: true, value: data as unknown as SubmitMissionCommand } : { ok: false, problems: describeProblems(problems) };
}
