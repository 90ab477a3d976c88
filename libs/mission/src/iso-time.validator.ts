import { isISO8601, ValidateBy, ValidationOptions } from 'class-validator';

/**
 * A time the API can compute with: strict ISO 8601 (no 2026-02-30) that Date.parse also reads.
 * isISO8601 alone admits forms Date.parse cannot (week dates `2009-W53-7`, ordinal dates, a
 * decimal comma `10:00:00,5Z`): their NaN became a 500, or a filter that silently matched nothing.
 */
export function isIsoTime(value: unknown): value is string {
  return typeof value === 'string' && isISO8601(value, { strict: true }) && Number.isFinite(Date.parse(value));
}

/**
 * An isIsoTime as a bound in milliseconds, the first whole millisecond at or after it: Date.parse
 * drops the digits past the millisecond, so `createdFrom=…31.0151Z` ("at or after") took in a
 * mission created at …31.015 and `createdTo=…31.0151Z` ("before") left it out. The system's times
 * are whole milliseconds, so one at or after the time is one at or after this bound, and one
 * before the time is one before it.
 */
export function timeBoundMs(time: string): number {
  const pastMillisecond = /\.\d{3}(\d+)/.exec(time)?.[1] ?? '';
  return Date.parse(time) + (/[1-9]/.test(pastMillisecond) ? 1 : 0);
}

export function isoTimeMessage(property: string): string {
  return `${property} must be a valid ISO 8601 date string`;
}

export function IsIsoTime(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'isIsoTime', validator: { validate: isIsoTime, defaultMessage: (args) => isoTimeMessage(args?.property ?? 'time') } },
    validationOptions,
  );
}

/** A date-time that ends in its offset from UTC: `Z`, `±hh`, `±hhmm` or `±hh:mm`. */
const ENDS_IN_OFFSET = /T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * An instant the services agree on: an isIsoTime date-time with its UTC offset. Without one,
 * Date.parse reads a date-time in the process's own time zone (`2026-05-01T18:00:00` is 18:00 UTC
 * with TZ unset and 16:00 UTC with TZ=Europe/Berlin, so services with different TZ disagreed on a
 * deadline) and a bare date as midnight UTC (a deadline "by 2026-05-01" was overdue as that day
 * began).
 */
export function isIsoInstant(value: unknown): value is string {
  return isIsoTime(value) && ENDS_IN_OFFSET.test(value);
}

export function isoInstantMessage(property: string): string {
  return `${property} must be an ISO 8601 date-time with its UTC offset (Z or ±hh:mm), e.g. 2026-05-01T18:00:00Z or 2026-05-01T20:00:00+02:00`;
}

export function IsIsoInstant(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'isIsoInstant', validator: { validate: isIsoInstant, defaultMessage: (args) => isoInstantMessage(args?.property ?? 'time') } },
    validationOptions,
  );
}

/**
 * Why a deadline cannot be kept given the time the mission may start, or null: a deadline before
 * notBefore is missed before the mission may run (it would be overdue while still scheduled). Only
 * for two valid times; each field's own rule reports a bad one.
 */
export function deadlineProblem(deadline: unknown, notBefore: unknown): string | null {
  if (!isIsoTime(deadline) || !isIsoTime(notBefore)) return null;
  return Date.parse(deadline) < Date.parse(notBefore) ? 'deadline must not be before notBefore' : null;
}

/** deadlineProblem as a class-validator rule of `deadline`, reading the object's notBefore. */
export function IsNotBeforeStart(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isNotBeforeStart',
      validator: {
        validate: (value, args) => deadlineProblem(value, (args?.object as { notBefore?: unknown } | undefined)?.notBefore) === null,
        defaultMessage: (args) => deadlineProblem(args?.value, (args?.object as { notBefore?: unknown } | undefined)?.notBefore) ?? '',
      },
    },
    validationOptions,
  );
}
