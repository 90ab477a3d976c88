import { ValidateBy, ValidationOptions } from 'class-validator';

/** C0 controls other than tab, line feed and carriage return, DEL, and C1 controls. */
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/** Something a person can see: not only spaces, zero-width characters or joiners. */
const VISIBLE = /[^\s\u200b-\u200f\u2060\ufeff]/;

/** Why a text is refused, or null: it must be well-formed Unicode without control characters. */
export function textProblem(value: unknown, requireVisible: boolean): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (!value.isWellFormed()) return 'must be well-formed Unicode (no lone surrogates)';
  if (CONTROL_CHARACTERS.test(value)) return 'must not contain control characters';
  if (requireVisible && !VISIBLE.test(value)) return 'must contain a visible character';
  return null;
}

export function IsCleanText(options: { requireVisible: boolean }, validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCleanText',
      validator: {
        validate: (value) => textProblem(value, options.requireVisible) === null,
        defaultMessage: (args) => `${args?.property ?? 'text'} ${textProblem(args?.value, options.requireVisible) ?? 'is not allowed'}`,
      },
    },
    validationOptions,
  );
}
