import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsInt } from 'class-validator';
import { DECIMAL_INTEGER } from '@app/config';

/**
 * A query parameter that is a whole number: `^-?\d+$` becomes its number, anything else stays a
 * string and breaks IsInt (`<name> must be an integer number`). Not `Number()`, which read `0x2`,
 * `0b11`, `1e1` and ` 2` as numbers, and an empty value as 0 (so `/api/dlq?limit=` was a page of
 * one where `/api/missions?limit=` was a 400).
 */
export function WholeNumber(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' && DECIMAL_INTEGER.test(value) ? Number(value) : value)),
    IsInt(),
  );
}
