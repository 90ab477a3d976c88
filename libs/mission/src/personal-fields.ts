import { isPlainObject } from './field-problems';
import { MissionType } from './mission-type';

/** Where a mission's personal fields are: in the create body (and the mission), or in an agent's output. */
export type PersonalFieldPlace = 'input' | 'output';

/** What any mission may hold about a guest, in its payload; the Odoo connector maps a partner's e-mail to `contactEmail`. */
const GUEST_PAYLOAD = ['payload.guest.name', 'payload.guest.email', 'payload.guest.phone', 'payload.message', 'payload.contactEmail'] as const;

/**
 * THE table of personal fields, per mission type: name, e-mail, phone and free text written by or
 * about the guest. They are stored only encrypted (events, read model, messages) under the
 * mission's subjects' keys, and read `[erased]` once a subject is erased. `input` paths are in the
 * create body and the mission (`description`, `payload.…`); `output` paths are in an agent's
 * result output, and in a reviewer's edit of it. The title, the ids, the routing fields and the
 * evaluator's and reviewers' remarks are not personal: staff write them, and must keep guest data
 * out of them (README, "Guest data"). A path may be added, never removed (nor NAMED_INPUT): the
 * fields of a part are sealed as one group bound to all its paths, so a stored group with a path
 * this table no longer lists would not open any more (tampered).
 */
export const PERSONAL_FIELDS: Readonly<Record<MissionType, Readonly<Record<PersonalFieldPlace, readonly string[]>>>> = {
  // The guest's request and the reply drafted to them (and the follow-up tasks, which name them).
  guest_support: { input: ['description', ...GUEST_PAYLOAD], output: ['reply', 'actions'] },
  pricing: { input: [...GUEST_PAYLOAD], output: [] },
  maintenance: { input: [...GUEST_PAYLOAD], output: [] },
};

/** A field's path and value, as PERSONAL_FIELDS names it. */
export interface PathValue {
  readonly path: string;
  readonly value: unknown;
}

/**
 * Input fields personal in every type once the mission names a subject: a connector maps the
 * guest's own text (an ERP ticket's body) into any type's description.
 */
const NAMED_INPUT = ['description'] as const;

/** Each type's input paths with NAMED_INPUT, made once: personalValues runs at every hop that seals or opens. */
const NAMED_INPUT_PATHS: Readonly<Record<MissionType, readonly string[]>> = {
  guest_support: withNamedInput('guest_support'),
  pricing: withNamedInput('pricing'),
  maintenance: withNamedInput('maintenance'),
};

function withNamedInput(type: MissionType): string[] {
  return [...new Set([...PERSONAL_FIELDS[type].input, ...NAMED_INPUT])];
}

/**
 * The personal fields of `type` at `place` that hold something in `source` (not absent, null or
 * ''): those of PERSONAL_FIELDS, and for input with `source.subjects` non-empty (a mission, a
 * create with its resolved subjects) NAMED_INPUT too.
 */
export function personalValues(type: MissionType, place: PersonalFieldPlace, source: object): PathValue[] {
  const found: PathValue[] = [];
  const named = place === 'input' && isPlainObject(source) && Array.isArray(source.subjects) && source.subjects.length > 0;
  for (const path of named ? NAMED_INPUT_PATHS[type] : PERSONAL_FIELDS[type][place]) {
    const value = valueAt(source, path);
    if (value !== undefined && value !== null && value !== '') found.push({ path, value });
  }
  return found;
}

/** The steps of each path PERSONAL_FIELDS names, split once: valueAt looks every one of them up at each hop that seals or opens. */
const TABLE_STEPS = new Map(
  Object.values(PERSONAL_FIELDS)
    .flatMap((places) => [...places.input, ...places.output, ...NAMED_INPUT])
    .map((path) => [path, path.split('.')]),
);

/** The value at a dotted path of plain objects; undefined when a step is missing. */
export function valueAt(source: object, path: string): unknown {
  let current: unknown = source;
  for (const step of TABLE_STEPS.get(path) ?? path.split('.')) {
    if (!isPlainObject(current) || !Object.hasOwn(current, step)) return undefined;
    current = current[step];
  }
  return current;
}

/**
 * A copy of `source` with each path set to its new value: only the objects on those paths are
 * copied, each once however many of the paths go through it (a create's guest fields share
 * `payload`), the rest is shared. Every path must lead to a value that is there (personalValues
 * found it).
 */
export function withValues<T extends object>(source: T, values: readonly PathValue[]): T {
  const copy = { ...source } as Record<string, unknown>;
  const copies = new Set<object>([copy]);
  for (const { path, value } of values) {
    const steps = path.split('.');
    let target = copy;
    for (let i = 0; i < steps.length - 1; i += 1) {
      let next = target[steps[i]] as Record<string, unknown>;
      if (!copies.has(next)) {
        next = { ...next };
        copies.add(next);
        target[steps[i]] = next;
      }
      target = next;
    }
    target[steps[steps.length - 1]] = value;
  }
  return copy as T;
}

/** What a personal field holds where it is kept without its subject's key, e.g. a refused submission. */
export const REDACTED_MARKER = '[redacted]';
