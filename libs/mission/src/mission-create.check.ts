import { matches, maxLength } from 'class-validator';
import { CleanTextRule, MULTI_LINE, SINGLE_LINE, textProblem } from './clean-text.validator';
import { MAX_SUBJECTS, SUBJECT_ID_PATTERN, SUBJECT_MESSAGE } from './data-subject';
import { childPath, FieldProblem, isInteger, isPlainObject, unknownProperties } from './field-problems';
import { deadlineProblem, isIsoInstant, isoInstantMessage } from './iso-time.validator';
import {
  MAX_DESCRIPTION_LENGTH,
  MAX_SKILLS,
  MAX_TITLE_LENGTH,
  MissionCreateDto,
  MissionSourceDto,
  PAYLOAD_LIMITS,
  SKILL_MESSAGE,
  SKILL_PATTERN,
  SOURCE_MESSAGE,
} from './mission-create.dto';
import { MISSION_TYPES, PRIORITY_LEVELS } from './mission-type';
import { payloadProblem } from './safe-payload.validator';

/** The properties a create body may have (MissionCreateDto's). */
export const MISSION_CREATE_FIELDS: ReadonlySet<string> = new Set([
  'type',
  'title',
  'description',
  'priority',
  'requiredSkills',
  'payload',
  'deadline',
  'notBefore',
  'source',
  'subjects',
]);
const SOURCE_FIELDS: ReadonlySet<string> = new Set(['system', 'model', 'recordId']);
const TYPES: readonly unknown[] = MISSION_TYPES;
const PRIORITIES: readonly unknown[] = PRIORITY_LEVELS;

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };

/**
 * MissionCreateDto's decorators as straight-line code: the same rules and the same messages, at a
 * tenth of the cost of class-transformer + class-validator (which copy the whole body and walk
 * metadata for every request). `mission-create.check.spec.ts` holds the two to the same verdicts.
 * The decorators stay the declared rules (and the OpenAPI schema); this is what runs at the HTTP
 * edge and for `mission.submit`. Returns the object itself (not a copy) when it is valid, else
 * every problem, as class-validator does.
 */
export function checkMissionCreate(value: Record<string, unknown>, parent = ''): Checked<MissionCreateDto> {
  const problems = missionCreateProblems(value, parent);
  // Every property the DTO declares has just been checked, and no other property is present.
  return problems.length === 0 ? { ok: true, value: value as unknown as MissionCreateDto } : { ok: false, problems };
}

function missionCreateProblems(value: Record<string, unknown>, parent: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  unknownProperties(value, MISSION_CREATE_FIELDS, parent, out);
  const field = (property: string, problems: string[]) => {
    if (problems.length > 0) out.push({ parent, property, problems });
  };
  const { type, title, description, priority, requiredSkills, payload, deadline, notBefore, source, subjects } = value;

  field('type', TYPES.includes(type) ? [] : [`type must be one of the following values: ${MISSION_TYPES.join(', ')}`]);
  field('title', textProblems('title', title, MAX_TITLE_LENGTH, true, SINGLE_LINE));
  field('description', textProblems('description', description, MAX_DESCRIPTION_LENGTH, false, MULTI_LINE));
  field('priority', PRIORITIES.includes(priority) ? [] : [`priority must be one of the following values: ${PRIORITY_LEVELS.join(', ')}`]);
  if (requiredSkills !== undefined && requiredSkills !== null) field('requiredSkills', skillProblems(requiredSkills));
  if (subjects !== undefined && subjects !== null) field('subjects', listProblems('subjects', subjects, MAX_SUBJECTS, SUBJECT_ID_PATTERN, SUBJECT_MESSAGE));
  const payloadIssue = isPlainObject(payload) ? null : 'payload must be an object';
  const unsafe = payloadProblem(payload, PAYLOAD_LIMITS, type);
  field('payload', [...(payloadIssue ? [payloadIssue] : []), ...(unsafe ? [unsafe] : [])]);
  if (deadline !== undefined && deadline !== null) {
    const late = deadlineProblem(deadline, notBefore);
    field('deadline', [...(isIsoInstant(deadline) ? [] : [isoInstantMessage('deadline')]), ...(late ? [late] : [])]);
  }
  if (notBefore !== undefined && notBefore !== null) {
    field('notBefore', isIsoInstant(notBefore) ? [] : [isoInstantMessage('notBefore')]);
  }
  if (source !== undefined && source !== null) {
    if (isPlainObject(source)) out.push(...sourceProblems(source, childPath(parent, 'source')));
    else field('source', [SOURCE_MESSAGE]);
  }
  return out;
}

/** IsString, IsNotEmpty when `required`, MaxLength and IsCleanText, e.g. `title` (required) and `description` (may be empty). */
function textProblems(property: string, value: unknown, max: number, required: boolean, rule: CleanTextRule): string[] {
  const problems: string[] = [];
  if (typeof value !== 'string') problems.push(`${property} must be a string`);
  if (required && (value === '' || value === null || value === undefined)) problems.push(`${property} should not be empty`);
  if (!maxLength(value, max)) problems.push(`${property} must be shorter than or equal to ${max} characters`);
  const text = textProblem(value, rule);
  if (text) problems.push(`${property} ${text}`);
  return problems;
}

function skillProblems(value: unknown): string[] {
  return listProblems('requiredSkills', value, MAX_SKILLS, SKILL_PATTERN, SKILL_MESSAGE);
}

/** IsArray, ArrayMaxSize, IsString and Matches, each of the last two `{ each: true }`. */
function listProblems(property: string, value: unknown, max: number, pattern: RegExp, message: string): string[] {
  const problems: string[] = [];
  const items = Array.isArray(value) ? value : [value];
  if (!Array.isArray(value)) problems.push(`${property} must be an array`);
  if (!Array.isArray(value) || value.length > max) problems.push(`${property} must contain no more than ${max} elements`);
  if (!items.every((item) => typeof item === 'string')) problems.push(`each value in ${property} must be a string`);
  if (!items.every((item) => typeof item === 'string' && matches(item, pattern))) problems.push(message);
  return problems;
}

function sourceProblems(source: Record<string, unknown>, parent: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  unknownProperties(source, SOURCE_FIELDS, parent, out);
  const field = (property: keyof MissionSourceDto, problems: string[]) => {
    if (problems.length > 0) out.push({ parent, property, problems });
  };
  for (const [property, max] of [
    ['system', 64],
    ['model', 128],
  ] as const)
    field(property, textProblems(property, source[property], max, true, SINGLE_LINE));
  const recordId = source.recordId;
  field('recordId', [
    ...(isInteger(recordId) ? [] : ['recordId must be an integer number']),
    ...(typeof recordId === 'number' && recordId >= 0 ? [] : ['recordId must not be less than 0']),
    ...(typeof recordId === 'number' && recordId <= Number.MAX_SAFE_INTEGER ? [] : [`recordId must not be greater than ${Number.MAX_SAFE_INTEGER}`]),
  ]);
  return out;
}
