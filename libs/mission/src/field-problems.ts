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

export function fieldPath(problem: Pick<FieldProblem, 'parent' | 'property'>): string {
  return problem.parent ? `${problem.parent}.${problem.property}` : problem.property;
}

export function childPath(parent: string, property: string): string {
  return parent ? `${parent}.${property}` : property;
}

/** The keys of `value` that `allowed` does not name, each as a problem (class-validator's whitelist error). */
export function unknownProperties(value: object, allowed: ReadonlySet<string>, parent: string, out: FieldProblem[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) out.push({ parent, property: key, problems: [`property ${key} should not exist`] });
  }
}

/** `typeof null === 'object'` and arrays are objects too; class-validator's isObject excludes both. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}
