import { ValidateBy, ValidationOptions } from 'class-validator';

/**
 * A class-validator rule for a string variable that `parse` reads: valid when it parses, and the
 * message is the parser's own, so validation at start and use later never disagree.
 */
export function IsParsedBy(name: string, variable: string, parse: (text: string) => unknown, options?: ValidationOptions): PropertyDecorator {
  const problem = (text: string): string | undefined => {
    try {
      parse(text);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };
  return ValidateBy(
    {
      name,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && problem(value) === undefined,
        defaultMessage: (args) => (typeof args?.value === 'string' ? problem(args.value) : undefined) ?? `${variable} must be a string`,
      },
    },
    options,
  );
}
