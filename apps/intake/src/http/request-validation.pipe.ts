import { ArgumentMetadata, BadRequestException, Type, ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { checkMissionCreate, FieldProblem, fieldPath, isLeftOut, isPlainObject, MissionCreateDto, tidiedProblems } from '@app/mission';
import { NOT_UTF8, ParsedQuery } from './query-parser';

export interface FieldErrorBody {
  field: string;
  problems: string[];
}

/** What the API says of a body that is no JSON object (`[]`, `null`, `"hi"`): every body it takes is one. */
export const NOT_AN_OBJECT = 'the body must be a JSON object';

/**
 * The validation `context` of a rule on a field that only some bodies need, whose message says
 * which: when the field is left out, that message stands, where "<field> is required" would be
 * wrong for the bodies that may leave it out and would not say what else to send.
 */
export const SAYS_WHEN_REQUIRED = { saysWhenRequired: true };

/** One entry per bad field, with the path into the body, e.g. {field: "source.recordId", problems: [...]}. */
export function fieldErrors(errors: ValidationError[], parent = ''): FieldErrorBody[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    return [...ownErrors(error, field), ...fieldErrors(error.children ?? [], field)];
  });
}

function ownErrors({ constraints, contexts, value }: ValidationError, field: string): FieldErrorBody[] {
  if (!constraints) return [];
  if (value === undefined) {
    const saidWhenRequired = Object.entries(constraints)
      .filter(([rule]) => (contexts?.[rule] as Partial<typeof SAYS_WHEN_REQUIRED> | undefined)?.saysWhenRequired === true)
      .map(([, problem]) => problem);
    if (saidWhenRequired.length > 0) return [{ field, problems: saidWhenRequired }];
  }
  return [tidied({ field, problems: Object.values(constraints) }, value === undefined)];
}

/**
 * A field's problems as a client can act on them. A field the request does not have at all gets
 * one, that it is required, instead of every rule its absence breaks ("reason must be a string",
 * "reason should not be empty", …); a given one's as tidiedProblems says them.
 */
function tidied(detail: FieldErrorBody, absent: boolean): FieldErrorBody {
  if (absent) return { field: detail.field, problems: [`${detail.field} is required`] };
  return { field: detail.field, problems: tidiedProblems(detail.problems) };
}

/**
 * checkMissionCreate's problems with a create in `body` (the body itself, or a schedule's template
 * in it) as the details of a 400: a field left out or null is required, said once; the others'
 * problems tidied as every body's are.
 */
export function missionCreateDetails(body: unknown, problems: readonly FieldProblem[]): FieldErrorBody[] {
  return problems.map((problem) => tidied({ field: fieldPath(problem), problems: problem.problems }, isLeftOut(body, problem)));
}

/** The one detail of a body that is no JSON object, whether the parser (`null`, `"hi"`) or the pipe (`[]`) refuses it. */
export const NOT_AN_OBJECT_DETAIL: FieldErrorBody = { field: 'body', problems: [NOT_AN_OBJECT] };

/** The 400 for a body that is no JSON object, made only when one is refused (the create is the hot path). */
function notAnObject(): BadRequestException {
  return invalid([NOT_AN_OBJECT_DETAIL]);
}

/**
 * The detail of a problem with the body as a whole (nested too deep, a key that reaches a
 * prototype): one entry, field `body`, as a body that is no object gets, so a client reads every
 * body refusal from `details` alike; the message says the same.
 */
export function bodyProblemDetails(problem: string): FieldErrorBody[] {
  return [{ field: 'body', problems: [problem] }];
}

export function invalid(details: FieldErrorBody[]): BadRequestException {
  return new BadRequestException({ message: 'request validation failed', details });
}

/** The problem of a parameter (or header) that takes one value and was given more than once: which one the client meant cannot be told. */
export function givenMoreThanOnce(name: string): string {
  return `${name} may be given only once`;
}

/** Per DTO class: each property its rules name, and whether it takes a list (a rule checks each of its items). */
const declaredProperties = new WeakMap<Type, ReadonlyMap<string, boolean>>();

function declaredOf(metatype: Type): ReadonlyMap<string, boolean> {
  let declared = declaredProperties.get(metatype);
  if (!declared) {
    const takesList = new Map<string, boolean>();
    for (const rule of getMetadataStorage().getTargetValidationMetadatas(metatype, '', false, false)) {
      takesList.set(rule.propertyName, takesList.get(rule.propertyName) === true || rule.each);
    }
    declared = takesList;
    declaredProperties.set(metatype, declared);
  }
  return declared;
}

/**
 * The problems of the keys of a query or body that the DTO's own rules misjudge, one detail per key:
 * - a key the DTO does not declare, whatever its name: the whitelist only sees the keys
 *   class-transformer copies onto the instance, and that skips a key whose value on a new instance
 *   is a function, so `toString`, `valueOf` or `hasOwnProperty` passed as if not sent;
 * - a query parameter given more than once where the DTO takes one value: the query parser makes
 *   it an array, which the value's rules misread (`limit=1&limit=2`: "limit must be an integer number");
 * - a query parameter whose bytes are not UTF-8 (`title=%FF`), which the parser read as U+FFFD.
 */
function keyProblems(value: Record<string, unknown>, metatype: Type, query: boolean): FieldErrorBody[] {
  const declared = declaredOf(metatype);
  const notUtf8 = query ? (value as ParsedQuery)[NOT_UTF8] : undefined;
  return Object.keys(value).flatMap((key) => {
    if (notUtf8?.has(key)) return [{ field: key, problems: [`${key} is not valid UTF-8 (once its percent-escapes are decoded)`] }];
    const takesList = declared.get(key);
    if (takesList === undefined) return [{ field: key, problems: [`property ${key} should not exist`] }];
    if (query && !takesList && Array.isArray(value[key])) return [{ field: key, problems: [givenMoreThanOnce(key)] }];
    return [];
  });
}

/** The details of a 400 that invalid() made; anything else is thrown on. */
function detailsOf(error: unknown): FieldErrorBody[] {
  const body = error instanceof BadRequestException ? error.getResponse() : undefined;
  if (isPlainObject(body) && Array.isArray(body.details)) return body.details as FieldErrorBody[];
  throw error;
}

/**
 * The API's ValidationPipe, except for the body of `POST /api/missions`, the hot path: that one is
 * checked by the hand-written `checkMissionCreate` (same rules, same messages, about a tenth of the
 * CPU: no class instance, no metadata walk) and passed on as the parsed object itself.
 */
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      exceptionFactory: (errors) => invalid(fieldErrors(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'body') return this.validated(value, metadata);
    // Not left to the DTO's rules, which read an array's indexes as properties ("property 0 should not exist").
    if (metadata.metatype !== MissionCreateDto) {
      if (value !== undefined && !isPlainObject(value)) throw notAnObject();
      return this.validated(value, metadata);
    }
    if (!isPlainObject(value)) throw notAnObject();
    const checked = checkMissionCreate(value);
    if (!checked.ok) throw invalid(missionCreateDetails(value, checked.problems));
    return checked.value;
  }

  /** The DTO's rules over the keys keyProblems finds none in; a 400 has those keys' details first, as the whitelist's came first. */
  private async validated(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype } = metadata;
    const problems = metatype && this.toValidate(metadata) && isPlainObject(value) ? keyProblems(value, metatype, metadata.type === 'query') : [];
    if (problems.length === 0) return super.transform(value, metadata);
    const refused = new Set(problems.map((problem) => problem.field));
    const rest = Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([key]) => !refused.has(key)));
    const others = await super.transform(rest, metadata).then(() => [], detailsOf);
    throw invalid([...problems, ...others]);
  }
}
