import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { DECIMAL_INTEGER } from '@app/config';

/** WholeNumber's bounds without others, for the parameter's schema (its `minimum` and `maximum`). */
export const SAFE_INTEGERS = { minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER } as const;

/** The bounds of a whole-number query parameter; each within the safe integers, which are also the defaults. */
export interface WholeNumberBounds {
  min?: number;
  max?: number;
}

/**
 * A query parameter that is a whole number: `^-?\d+$` becomes its number, anything else stays a
 * string and breaks IsInt (`<name> must be an integer number`). Not `Number()`, which read `0x2`,
 * `0b11`, `1e1` and ` 2` as numbers, and an empty value as 0 (so `/api/dlq?limit=` was a page of
 * one where `/api/missions?limit=` was a 400).
 * A bound not given is the safe integers' own: digits beyond them are read as another number
 * (`version=9007199254740993` was looked up, and quoted back, as 9007199254740992), so such a value
 * is a 400 (`<name> must not be greater than 9007199254740991`) on every route. Bounds are given
 * here, not by a Min or Max beside it, which would be a second rule of the name and hide one of
 * the two messages (class-validator keys a field's problems by the rule's name).
 */
export function WholeNumber({ min = SAFE_INTEGERS.minimum, max = SAFE_INTEGERS.maximum }: WholeNumberBounds = {}): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' && DECIMAL_INTEGER.test(value) ? digitsAsNumber(value) : value)),
    IsInt(),
    Min(min),
    Max(max),
  );
}

/**
 * The number of a string of digits. Beyond the largest double (about 1.8e308, 309 digits) Number()
 * gives ±Infinity, which is no integer: `limit=` and 400 nines was "must be an integer number" where
 * 20 nines named the bound. The largest finite double (a whole number, beyond every bound) keeps it
 * a number too large, or too small, which Max or Min then names.
 */
function digitsAsNumber(digits: string): number {
  const number = Number(digits);
  return Number.isFinite(number) ? number : Math.sign(number) * Number.MAX_VALUE;
}
