/**
 * What a hand-written check found wrong with one field, worded as class-validator words it
 * ("title should not be empty", "property extra should not exist"), so that a client sees the
 * same messages whichever validator ran. `parent` is the path of the enclosing object ('' at the
 * top, 'mission.source' deeper down).
 */
export interface FieldProblem {
  parent: string;
  property: string;
  problems: string[];
}

/** class-validator's messages for a value of the wrong type (IsString, IsInt, IsNumber, IsBoolean, IsArray, IsObject). */
const WRONG_TYPE = /\bmust be an? (string|integer number|number|boolean value|array|object)\b/;

/**
 * A given field's problems as a client can act on them, the same over HTTP and the stream: a value
 * of the wrong type gets only that, as the rules on its length or range say nothing of `null` or
 * `"abc"` ("limit must not be less than 1"); a problem two rules report (two string checks) is
 * said once.
 */
export function tidiedProblems(problems: readonly string[]): string[] {
  const wrongType = problems.filter((problem) => WRONG_TYPE.test(problem));
  return [...new Set(wrongType.length > 0 ? wrongType : problems)];
}

/**
 * Whether a create (`body`, or a command or schedule holding one) leaves the problem's field out:
 * absent, or `null`, which a create reads as left out (`undefined` too, which no JSON holds), so
 * the API says `<field> is required` instead of every rule its absence breaks. Never for a
 * property the object may not have at all: that stays `property <name> should not exist`, null or
 * not. The property is taken as a whole, so an unknown key `a.b` is not read as a path; false
 * where its parent is no object, whose own problems stand.
 */
export function isLeftOut(body: unknown, problem: FieldProblem): boolean {
  if (problem.problems.includes(unknownPropertyProblem(problem.property))) return false;
  let current = body;
  for (const step of problem.parent ? problem.parent.split('.') : []) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, step)) return false;
    current = (current as Record<string, unknown>)[step];
  }
  return (
    typeof current === 'object' &&
    current !== null &&
    (!Object.hasOwn(current, problem.property) || (current as Record<string, unknown>)[problem.property] == null)
  );
}

export function fieldPath(problem: Pick<FieldProblem, 'parent' | 'property'>): string {
  return problem.parent ? `${problem.parent}.${problem.property}` : problem.property;
}

export function childPath(parent: string, property: string): string {
  return parent ? `${parent}.${property}` : property;
}

/** class-validator's whitelist error for a property the object may not have. */
function unknownPropertyProblem(key: string): string {
  return `property ${key} should not exist`;
}

/** The keys of `value` that `allowed` does not name, each as a problem (class-validator's whitelist error). */
export function unknownProperties(value: object, allowed: ReadonlySet<string>, parent: string, out: FieldProblem[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) out.push({ parent, property: key, problems: [unknownPropertyProblem(key)] });
  }
}

/** `typeof null === 'object'` and arrays are objects too; class-validator's isObject excludes both. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}
