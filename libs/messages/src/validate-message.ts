import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import { findForbiddenKey } from '@app/mission';

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Validates untrusted JSON against a DTO the way the HTTP API does: unknown fields are errors. */
export async function validateMessage<T extends object>(type: ClassConstructor<T>, data: unknown): Promise<Validated<T>> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, problems: ['message data must be a JSON object'] };
  const forbidden = findForbiddenKey(data);
  if (forbidden) return { ok: false, problems: [`key "${forbidden}" is not allowed`] };
  const value = plainToInstance(type, data);
  const errors = await validate(value, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  return errors.length === 0 ? { ok: true, value } : { ok: false, problems: flatten(errors) };
}

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) => `${path}: ${text}`);
    return [...own, ...flatten(error.children ?? [], path)];
  });
}
