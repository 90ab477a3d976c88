import { ValidateIf } from 'class-validator';

/**
 * A body field that may be left out, but not sent as null: @IsOptional lets null through
 * unchecked, and the null would then be written as the field's value (into an agent's record, an
 * event of the log) or taken for a value given (a reviewed attempt of null). Null is checked by the
 * field's other rules, and refused by them.
 */
export function Omittable(): PropertyDecorator {
  return ValidateIf((_body: object, value: unknown) => value !== undefined);
}
