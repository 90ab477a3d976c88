import {
  checkMissionCreate,
  childPath,
  CORRELATION_ID_PATTERN,
  CORRELATION_ID_RULE,
  IDEMPOTENCY_KEY_PATTERN,
  FieldProblem,
  fieldPath,
  isLeftOut,
  isInteger,
  isPlainObject,
  MISSION_ID_PATTERN,
  MISSION_STATUSES,
  MISSION_TYPES,
  tidiedProblems,
  unknownProperties,
} from '@app/mission';
import { AgentReleased, MissionMessage } from './messages';

/**
 * Hand-written checks of the message DTOs: the rules of their class-validator decorators, with the
 * same messages, without class-transformer copying every message (whole mission snapshots,
 * payload included) into class instances and class-validator walking metadata. That cost 14–44 %
 * of each service's CPU. `message-checks.spec.ts` holds every check to its decorators' verdicts.
 *
 * A check collects FieldProblems into `out`; none means the message is valid, and the handler
 * gets the parsed object itself.
 */
type Check = (value: Record<string, unknown>, parent: string, out: FieldProblem[]) => void;

const TYPES: readonly unknown[] = MISSION_TYPES;
export const MISSION_ID = new RegExp(MISSION_ID_PATTERN);
const STATUSES: readonly unknown[] = MISSION_STATUSES;

function add(out: FieldProblem[], parent: string, property: string, problems: string[]): void {
  if (problems.length > 0) out.push({ parent, property, problems });
}

function nonEmptyString(property: string, value: unknown): string[] {
  return [
    ...(typeof value === 'string' ? [] : [`${property} must be a string`]),
    ...(typeof value === 'string' && value.length >= 1 ? [] : [`${property} must be longer than or equal to 1 characters`]),
  ];
}

function integerAtLeast(property: string, value: unknown, min: number): string[] {
  return [
    ...(isInteger(value) ? [] : [`${property} must be an integer number`]),
    ...(typeof value === 'number' && value >= min ? [] : [`${property} must not be less than ${min}`]),
  ];
}

function stringArray(property: string, value: unknown): string[] {
  // class-validator's `each` checks a non-array value itself.
  const items = Array.isArray(value) ? value : [value];
  return [
    ...(Array.isArray(value) ? [] : [`${property} must be an array`]),
    ...(items.every((item) => typeof item === 'string') ? [] : [`each value in ${property} must be a string`]),
  ];
}

/** MissionSnapshotDto: the fields a handler decides on; the rest of the state is the event store's. */
const missionSnapshot: Check = (value, parent, out) => {
  add(out, parent, 'id', nonEmptyString('id', value.id));
  add(out, parent, 'type', TYPES.includes(value.type) ? [] : [`type must be one of the following values: ${MISSION_TYPES.join(', ')}`]);
  add(out, parent, 'status', STATUSES.includes(value.status) ? [] : [`status must be one of the following values: ${MISSION_STATUSES.join(', ')}`]);
  add(out, parent, 'version', integerAtLeast('version', value.version, 1));
  add(out, parent, 'attempts', integerAtLeast('attempts', value.attempts, 0));
  add(out, parent, 'requiredSkills', stringArray('requiredSkills', value.requiredSkills));
  add(out, parent, 'payload', isPlainObject(value.payload) ? [] : ['payload must be an object']);
};

/** ValidateNested's own complaint: it skips undefined and descends into arrays and objects. */
function notNestable(value: unknown): boolean {
  return value !== undefined && (value === null || typeof value !== 'object');
}

/** A property holding one nested snapshot (IsObject + ValidateNested, and IsDefined when required). */
function nestedSnapshot(value: unknown, property: string, parent: string, out: FieldProblem[]): void {
  if (isPlainObject(value)) return missionSnapshot(value, childPath(parent, property), out);
  add(out, parent, property, [
    ...(value === undefined || value === null ? [`${property} should not be null or undefined`] : []),
    `${property} must be an object`,
    ...(notNestable(value) ? [`nested property ${property} must be either object or array`] : []),
  ]);
}

const missionMessage: Check = (value, parent, out) => nestedSnapshot(value.mission, 'mission', parent, out);

function finiteNumber(property: string, value: unknown): string[] {
  return typeof value === 'number' && Number.isFinite(value) ? [] : [`${property} must be a number conforming to the specified constraints`];
}

const verdictCredit: Check = (value, parent, out) => {
  add(out, parent, 'delta', finiteNumber('delta', value.delta));
  add(out, parent, 'score', [
    ...finiteNumber('score', value.score),
    ...(typeof value.score === 'number' && value.score >= 0 ? [] : ['score must not be less than 0']),
    ...(typeof value.score === 'number' && value.score <= 1 ? [] : ['score must not be greater than 1']),
  ]);
  add(out, parent, 'passed', typeof value.passed === 'boolean' ? [] : ['passed must be a boolean value']);
};

const RELEASED_BY: readonly unknown[] = ['intake', 'executor', 'evaluator'];

const agentReleased: Check = (value, parent, out) => {
  add(out, parent, 'agentId', nonEmptyString('agentId', value.agentId));
  add(out, parent, 'missionId', nonEmptyString('missionId', value.missionId));
  add(out, parent, 'attempt', integerAtLeast('attempt', value.attempt, 1));
  const { credit } = value;
  if (isPlainObject(credit)) verdictCredit(credit, childPath(parent, 'credit'), out);
  else if (credit !== undefined && credit !== null) {
    add(out, parent, 'credit', ['credit must be an object', ...(notNestable(credit) ? ['nested property credit must be either object or array'] : [])]);
  }
  add(out, parent, 'by', RELEASED_BY.includes(value.by) ? [] : ['by must be one of the following values: intake, executor, evaluator']);
};

/** The message types the stream handlers take, by their DTO class (the pipe's metatype). */
export const MESSAGE_CHECKS: ReadonlyMap<abstract new () => object, Check> = new Map<abstract new () => object, Check>([
  [MissionMessage, missionMessage],
  [AgentReleased, agentReleased],
]);

/**
 * What is wrong with a stream message, worded as Nest's ValidationPipe words it ("mission.version
 * must not be less than 1"), so poison-stream reasons read as before; empty when it is valid.
 */
export function messageProblems(check: Check, data: unknown): string[] {
  if (!isPlainObject(data)) return ['message data must be a JSON object'];
  const out: FieldProblem[] = [];
  check(data, '', out);
  return out.flatMap((problem) => problem.problems.map((text) => (problem.parent ? `${problem.parent}.${text}` : text)));
}

/** The properties a `mission.submit` command may have (SubmitMissionCommand's). */
export const SUBMIT_FIELDS: ReadonlySet<string> = new Set(['missionId', 'idempotencyKey', 'correlationId', 'mission']);

/**
 * SubmitMissionCommand, strictly (unknown fields are errors), as the HTTP API checks a create: a
 * field's problems tidied as the API tidies them (tidiedProblems), so `{"title":123}` is told that
 * the title must be a string once, not again with every rule a number cannot meet.
 */
export function submitMissionProblems(value: Record<string, unknown>): FieldProblem[] {
  // As the API words a create's: a field left out (or null) is required, said once, not every rule
  // its absence breaks, and named by its path in the create (`source.recordId`), as over HTTP.
  return commandProblems(value).map((problem) => ({
    ...problem,
    problems: isLeftOut(value, problem) ? [`${fieldPath(problem).replace(/^mission\./, '')} is required`] : tidiedProblems(problem.problems),
  }));
}

function commandProblems(value: Record<string, unknown>): FieldProblem[] {
  const out: FieldProblem[] = [];
  unknownProperties(value, SUBMIT_FIELDS, '', out);
  const { missionId, mission } = value;
  if (missionId !== undefined && missionId !== null)
    add(out, '', 'missionId', typeof missionId === 'string' && MISSION_ID.test(missionId) ? [] : ['missionId must be a lowercase UUID']);
  const keys = [
    ['idempotencyKey', IDEMPOTENCY_KEY_PATTERN, '1 to 200 visible ASCII characters'],
    ['correlationId', CORRELATION_ID_PATTERN, CORRELATION_ID_RULE],
  ] as const;
  for (const [property, pattern, rule] of keys) {
    const text = value[property];
    if (text === undefined || text === null) continue;
    add(out, '', property, [
      ...(typeof text === 'string' ? [] : [`${property} must be a string`]),
      ...(typeof text === 'string' && pattern.test(text) ? [] : [`${property} must be ${rule}`]),
    ]);
  }
  if (isPlainObject(mission)) {
    const checked = checkMissionCreate(mission, 'mission');
    if (!checked.ok) out.push(...checked.problems);
  } else {
    add(out, '', 'mission', ['mission must be an object', ...(notNestable(mission) ? ['nested property mission must be either object or array'] : [])]);
  }
  return out;
}

/** Problems as `path: text` lines, e.g. "mission.type: type must be one of the following values: …". */
export function describeProblems(problems: readonly FieldProblem[]): string[] {
  return problems.flatMap((problem) => problem.problems.map((text) => `${fieldPath(problem)}: ${text}`));
}
