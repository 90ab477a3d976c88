import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { escapeUnclean, MULTI_LINE, OBJECT_KEY, textProblem } from './clean-text.validator';
import { guestProblem } from './data-subject';
import { ForbiddenJsonKeyError } from './forbidden-json-key-error';
import { knownPayloadKeyProblems } from './payload-keys';

/** Keys that, copied into an object, can reach its prototype. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A JSON.parse reviver that refuses prototype-reaching keys anywhere in a document. Checking
 * after parsing is too late: class-transformer silently drops such keys, so a request would pass.
 */
export function rejectForbiddenKeys(key: string, value: unknown): unknown {
  if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenJsonKeyError(key);
  return value;
}

/** The first prototype-reaching key anywhere in an already parsed value, or null. */
export function findForbiddenKey(value: unknown, depth = 0): string | null {
  if (typeof value !== 'object' || value === null || depth > 64) return null;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return key;
    const nested = findForbiddenKey((value as Record<string, unknown>)[key], depth + 1);
    if (nested) return nested;
  }
  return null;
}

export interface PayloadLimits {
  maxDepth: number;
  maxKeys: number;
}

/**
 * Why the payload of a create of `type` is refused, or null when it is fine. Pure, so the HTTP and
 * stream boundaries agree. A `guest` must be an object (guestProblem), and its `id` must be an
 * opaque id or a safe integer (it names the guest's data subject, `guest:<id>`, and is stored in
 * plain): an e-mail address there was kept in plain and never erased, and a rounded number merged
 * two guests into one subject. The keys the system reads with a meaning hold the kind of value
 * KNOWN_PAYLOAD_KEYS says, each one of the wrong kind named (`"safetyIssue": "true"` was taken and
 * then ignored). Its strings and keys follow the clean-text rule (the description's for values,
 * tab and line feed allowed; one line for keys): webhook receivers, the ERP and agents' tools get
 * them as they are.
 */
export function payloadProblem(value: unknown, limits: PayloadLimits, type: unknown): string | null {
  return shapeProblem(value, limits, 'payload', true) ?? guestProblem(value) ?? (knownPayloadKeyProblems(value, type).join('; ') || null);
}

/**
 * Why a free JSON value (a payload, a reviewer's output) is refused, its paths under `root`, or
 * null; with `cleanText`, a string or key the clean-text rule refuses too, named by its path.
 */
function shapeProblem(value: unknown, limits: PayloadLimits, root: string, cleanText = false): string | null {
  let keys = 0;
  const visit = (node: unknown, depth: number, path: string): string | null => {
    if (typeof node === 'number' && !Number.isFinite(node)) return `${path} is not a finite number`;
    if (cleanText && typeof node === 'string') {
      const problem = textProblem(node, MULTI_LINE);
      if (problem) return `${path} ${problem}`;
    }
    if (typeof node !== 'object' || node === null) return null;
    if (depth > limits.maxDepth) return `${root} nests deeper than ${limits.maxDepth} levels`;
    for (const [key, child] of Object.entries(node)) {
      if (FORBIDDEN_KEYS.has(key)) return `${root} key "${key}" is not allowed`;
      const keyProblem = cleanText ? textProblem(key, OBJECT_KEY) : null;
      if (keyProblem) return `${root} key "${escapeUnclean(key)}" in ${path} ${keyProblem}`;
      keys += 1;
      if (keys > limits.maxKeys) return `${root} has more than ${limits.maxKeys} keys`;
      const problem = visit(child, depth + 1, `${path}.${key}`);
      if (problem) return problem;
    }
    return null;
  };
  return visit(value, 1, root);
}

export function IsSafePayload(limits: PayloadLimits, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    let lastProblem = '';
    registerDecorator({
      name: 'isSafePayload',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          // The guest's id and the known keys are the create payload's; elsewhere (a reviewer's edited output) only the shape counts, named after its field.
          const name = String(propertyName);
          // Which keys are read depends on the create's type, a sibling of the payload.
          const type = (args.object as { type?: unknown }).type;
          lastProblem = (name === 'payload' ? payloadProblem(value, limits, type) : shapeProblem(value, limits, name)) ?? '';
          return lastProblem === '';
        },
        defaultMessage(_args: ValidationArguments) {
          return lastProblem || `${String(propertyName)} is not allowed`;
        },
      },
    });
  };
}
