import { isPlainObject } from './field-problems';
import { isMissionType, MISSION_TYPES, MissionType } from './mission-type';
import { PERSONAL_FIELDS, valueAt } from './personal-fields';

/** The kinds of JSON value a known payload key is read as. */
export type PayloadKeyKind = 'boolean' | 'number' | 'string' | 'string or number' | 'object' | 'string or object';

/** A payload key the system reads with a meaning: where it is, what it must hold, who reads it and why. */
export interface KnownPayloadKey {
  /** The dot path under `payload`, e.g. `guest.vip`. */
  readonly path: string;
  readonly kind: PayloadKeyKind;
  /** The mission types whose missions read it; a key no type reads is not checked. */
  readonly readBy: readonly MissionType[];
  /** What reads it and what for, the end of the 400's message. */
  readonly why: string;
}

const EVERY_TYPE = MISSION_TYPES;

/**
 * THE table of the payload keys the system interprets. The payload is free-form, but these keys
 * are read with a meaning and read strictly (`=== true`, `typeof === 'number'`): a value of
 * another kind was taken at create and then silently ignored (`"safetyIssue": "true"` lost the
 * safety tier, `"minRate": "200"` let a rate below the floor pass the judge). So every boundary
 * that takes a create refuses one (knownPayloadKeyProblems, part of payloadProblem), for the
 * types that read it; null counts as not given, as everywhere in a create. "string or number":
 * the readers take a number as its text (a room 204). Only kinds are checked: a floor above the
 * ceiling is a mission the judge dead-letters as impossible (contradictoryRateLimits), by design.
 * The readers stay defensive, for missions stored before this rule. Not here: `odoo`, which the
 * Odoo connector sets on the missions it makes and only their write-back reads (by their source),
 * so a client's own `odoo` key on any other mission is free. Add a key here when code
 * starts to read one; the README's payload passages name them (test/docs/payload-keys-docs.spec.ts).
 */
export const KNOWN_PAYLOAD_KEYS: readonly KnownPayloadKey[] = [
  { path: 'vip', kind: 'boolean', readBy: EVERY_TYPE, why: 'the priority score adds 8 for a VIP guest, only for true' },
  // guest and guest.id are refused first by guestProblem, which says more (erasure, the subject id); declared here for the whole picture.
  { path: 'guest', kind: 'object', readBy: EVERY_TYPE, why: 'its name, email, phone and id are the guest data' },
  { path: 'guest.vip', kind: 'boolean', readBy: EVERY_TYPE, why: 'the priority score adds 8 for a VIP guest, only for true' },
  { path: 'guest.id', kind: 'string or number', readBy: EVERY_TYPE, why: "it names the guest's data subject" },
  { path: 'guest.name', kind: 'string', readBy: ['guest_support'], why: 'the reply greets the guest by it' },
  { path: 'revenueAtStake', kind: 'number', readBy: EVERY_TYPE, why: 'the priority score adds a point per 1000 EUR at stake, up to 10' },
  {
    path: 'safetyIssue',
    kind: 'boolean',
    readBy: EVERY_TYPE,
    why: "only true makes a safety issue, which the queue serves first, the priority score raises by 15 and the review policy's payload rules match",
  },
  { path: 'message', kind: 'string', readBy: ['guest_support'], why: "the guest's own words, which the reply's language and topic are read from" },
  { path: 'language', kind: 'string', readBy: ['guest_support'], why: 'the locale to reply in, such as fr_FR' },
  { path: 'requestType', kind: 'string', readBy: ['guest_support'], why: 'the topic the reply must address, such as late_checkout' },
  { path: 'roomNumber', kind: 'string or number', readBy: ['guest_support', 'maintenance'], why: 'the reply and the work plan name the room' },
  { path: 'requestedTime', kind: 'string or number', readBy: ['guest_support'], why: 'the reply names the time the guest asked for' },
  { path: 'newArrival', kind: 'string or number', readBy: ['guest_support'], why: 'the reply names the new arrival date' },
  { path: 'newDeparture', kind: 'string or number', readBy: ['guest_support'], why: 'the reply names the new departure date' },
  { path: 'bookingRef', kind: 'string or number', readBy: ['guest_support'], why: 'the reply names the booking' },
  { path: 'location', kind: 'string or number', readBy: ['maintenance'], why: 'the work plan names where to go' },
  { path: 'equipment', kind: 'string', readBy: ['maintenance'], why: 'the work plan and the judge read what is broken from it' },
  // An asset id (a string), or the asset as an object: the draft reads the object's name.
  { path: 'asset', kind: 'string or object', readBy: ['maintenance'], why: 'an asset id, or {name}, whose name is the equipment when equipment is not given' },
  { path: 'asset.name', kind: 'string or number', readBy: ['maintenance'], why: 'the equipment when equipment is not given' },
  {
    path: 'currentRate',
    kind: 'number',
    readBy: ['pricing'],
    why: 'the rate the change is measured against (the judge, the review policy, the draft)',
  },
  { path: 'minRate', kind: 'number', readBy: ['pricing'], why: 'the floor the recommended rate must not go below (the judge, the review policy)' },
  { path: 'maxRate', kind: 'number', readBy: ['pricing'], why: 'the ceiling the recommended rate must not go above (the judge, the review policy)' },
  { path: 'maxChangePercent', kind: 'number', readBy: ['pricing'], why: 'the largest change the judge allows, in percent (50 when not given)' },
  { path: 'currency', kind: 'string', readBy: ['pricing'], why: 'the ISO 4217 code the recommended rate must be in' },
  { path: 'occupancy', kind: 'number', readBy: ['pricing'], why: 'the share of rooms booked (0 to 1) the draft weighs' },
  { path: 'competitorRate', kind: 'number', readBy: ['pricing'], why: "a competitor's rate the draft weighs" },
  { path: 'event', kind: 'string or object', readBy: ['pricing'], why: 'the event that drives demand: its name, or {name, upliftPercent}' },
  { path: 'event.name', kind: 'string or number', readBy: ['pricing'], why: 'the name of the event that drives demand' },
  { path: 'event.upliftPercent', kind: 'number', readBy: ['pricing'], why: 'how much the event raises demand, in percent' },
];

/** How a message names each kind. */
const KIND_TEXT: Readonly<Record<PayloadKeyKind, string>> = {
  boolean: 'a boolean (true or false)',
  number: 'a number',
  string: 'a string',
  'string or number': 'a string or a number',
  object: 'an object',
  'string or object': 'a string or an object',
};

/**
 * The table in words, for the OpenAPI description of the create's payload: each path with its
 * kind, and the types that read it unless every type does.
 */
export function knownPayloadKeysText(): string {
  return KNOWN_PAYLOAD_KEYS.map(({ path, kind, readBy }) => `${path}: ${kind}${readBy.length < MISSION_TYPES.length ? ` (${readBy.join(', ')})` : ''}`).join(
    '; ',
  );
}

/**
 * Why known payload keys hold a value of another kind than KNOWN_PAYLOAD_KEYS says, one problem
 * per key, for a create of `type`; empty when none does. A type that is no mission type (refused
 * on its own) has only the keys every type reads checked: which others are read depends on it.
 * A key under a parent that is no object is not looked at: the parent's own rule speaks then.
 * A personal field's value (PERSONAL_FIELDS) is never quoted: a 400 and a rejected submission are
 * kept and shown in plain.
 */
export function knownPayloadKeyProblems(payload: unknown, type: unknown): string[] {
  if (!isPlainObject(payload)) return [];
  const known = isMissionType(type) ? type : null;
  const problems: string[] = [];
  for (const key of KNOWN_PAYLOAD_KEYS) {
    if (known ? !key.readBy.includes(known) : key.readBy.length < MISSION_TYPES.length) continue;
    const value = valueAt(payload, key.path);
    if (value === undefined || value === null || isOfKind(value, key.kind)) continue;
    const personal = MISSION_TYPES.some((each) => (!known || each === known) && PERSONAL_FIELDS[each].input.includes(`payload.${key.path}`));
    problems.push(`payload.${key.path} must be ${KIND_TEXT[key.kind]}, not ${described(value, personal)}: ${key.why}`);
  }
  return problems;
}

function isOfKind(value: unknown, kind: PayloadKeyKind): boolean {
  switch (kind) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'string or number':
      return typeof value === 'string' || typeof value === 'number';
    case 'object':
      return isPlainObject(value);
    case 'string or object':
      return typeof value === 'string' || isPlainObject(value);
  }
}

/** The longest string a message quotes; a longer one is cut, marked with an ellipsis. */
const QUOTED_CHARACTERS = 40;

/** The value as a message names it: `the string "true"`, `the number 5`, `a list`; a personal one only by its kind. */
function described(value: unknown, personal: boolean): string {
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'an object';
  if (personal) return `a ${typeof value}`;
  if (typeof value === 'string') {
    const shown = [...value].length > QUOTED_CHARACTERS ? `${[...value].slice(0, QUOTED_CHARACTERS - 1).join('')}…` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  return `the ${typeof value} ${String(value)}`;
}
