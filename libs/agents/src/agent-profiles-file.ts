import { readFileSync } from 'node:fs';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { ConfigError } from '@app/config';
import { isPlainObject } from '@app/mission';
import { AgentProfile } from './agent';
import { RegisterAgentBody } from './agent-bodies';

/**
 * The agents a fresh registry is seeded with, from `file` (fixtures/agents.json): a JSON array of
 * agents, each held to the rules of POST /api/agents (RegisterAgentBody), no two with one id. A
 * ConfigError lists every problem, by entry (`<file>: entry 3 (agent-x): capacity must be …`), so the orchestrator stops with exit 78 instead of
 * seeding an agent the dispatcher cannot use, or leaving one out without a word.
 */
export function readAgentProfiles(file: string): AgentProfile[] {
  let text: string;
  let parsed: unknown;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${file}: cannot read the agents file (${messageOf(error)})`]);
  }
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${file}: the agents file is not JSON (${messageOf(error)})`]);
  }
  if (!Array.isArray(parsed)) throw new ConfigError([`${file}: the agents file must be a JSON array of agents`]);
  const entries: unknown[] = parsed;
  const problems: string[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const what = `entry ${index + 1}${isPlainObject(entry) && typeof entry.id === 'string' ? ` (${entry.id})` : ''}`;
    if (!isPlainObject(entry)) return problems.push(`${what}: must be an object`);
    const errors = validateSync(plainToInstance(RegisterAgentBody, entry), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    problems.push(...constraintsOf(errors).map((problem) => `${what}: ${problem}`));
    if (typeof entry.id === 'string' && seen.has(entry.id)) problems.push(`${what}: id ${entry.id} is listed before`);
    if (typeof entry.id === 'string') seen.add(entry.id);
  });
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => `${file}: ${problem}`));
  return entries as AgentProfile[];
}

/** An error's message; fs errors are not always `instanceof Error` (another realm, e.g. under Jest). */
function messageOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
}

/** Every broken rule of every field, as class-validator words them; a field left out is one problem, that it is required (as the API says). */
function constraintsOf(errors: readonly ValidationError[]): string[] {
  return errors.flatMap((error) => {
    const own = error.constraints ? (error.value === undefined ? [`${error.property} is required`] : Object.values(error.constraints)) : [];
    return [...own, ...constraintsOf(error.children ?? [])];
  });
}
