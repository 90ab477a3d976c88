import { Matches, ValidateBy, ValidationOptions } from 'class-validator';

/**
 * The one rule for free text a client sends (titles, descriptions, reasons, names, prompts, ERP
 * source names). Text ends up in terminals, logs, prompts and other people's screens, so:
 * - well-formed Unicode (no lone surrogates);
 * - no control characters: C0, DEL and C1. Multi-line text (a description, a system prompt) may
 *   hold tab and line feed; single-line text holds neither, nor a carriage return (which rewrites
 *   a terminal line) or the Unicode line and paragraph separators;
 * - no bidirectional embeddings, overrides or isolates (U+202A–U+202E, U+2066–U+2069), which make
 *   text read differently from what it is ("Trojan Source");
 * - where required, at least one visible character (see VISIBLE).
 */
export interface CleanTextRule {
  multiline: boolean;
  requireVisible: boolean;
}

/** A name, a title, a reason: one line with something visible in it. */
export const SINGLE_LINE: CleanTextRule = { multiline: false, requireVisible: true };
/** A description: lines and tabs allowed, may be empty. */
export const MULTI_LINE: CleanTextRule = { multiline: true, requireVisible: false };

/** Every C0 control (tab, line feed and carriage return included), DEL, C1, and the Unicode line/paragraph separators. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** The same, except tab and line feed. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern.
const CONTROL_CHARACTERS_BUT_TAB_AND_LF = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;
/**
 * A character a person can see: none of White_Space, Default_Ignorable_Code_Point (zero-width
 * characters and joiners, the soft hyphen, variation selectors, tags, the Hangul fillers U+115F,
 * U+1160, U+3164, U+FFA0), a combining mark (\p{M}: it shows only on what it follows), a control
 * or format character (\p{Cc}, \p{Cf}), nor the blank Braille pattern U+2800, which is drawn as
 * nothing though Unicode counts it a symbol. Private-use and unassigned characters count: a font
 * draws them, if only as a box.
 */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{M}\p{Cc}\p{Cf}\u2800]/u;

/** Whether `value` holds a character a person can see (VISIBLE): text with none reads as empty. */
export function hasVisibleCharacter(value: string): boolean {
  return VISIBLE.test(value);
}

/** Why a text is refused under the rule, or null. */
export function textProblem(value: unknown, rule: CleanTextRule): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (!value.isWellFormed()) return 'must be well-formed Unicode (no lone surrogates)';
  if (rule.multiline ? CONTROL_CHARACTERS_BUT_TAB_AND_LF.test(value) : CONTROL_CHARACTERS.test(value)) {
    return rule.multiline ? 'must not contain control characters other than tab and line feed' : 'must not contain control characters or line breaks';
  }
  if (BIDI_CONTROLS.test(value)) return 'must not contain bidirectional override or isolate characters';
  if (rule.requireVisible && !hasVisibleCharacter(value)) return 'must contain a visible character';
  return null;
}

/** A key of a free JSON object (a mission's payload): one line, may be empty. */
export const OBJECT_KEY: CleanTextRule = { multiline: false, requireVisible: false };

const UNCLEAN = new RegExp(`${CONTROL_CHARACTERS.source}|${BIDI_CONTROLS.source}|\\p{Surrogate}`, 'gu');

/** The text with every character the rule refuses written as a `\uXXXX` escape, to be named in a message. */
export function escapeUnclean(value: string): string {
  return value.replace(UNCLEAN, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Text from another system (an ERP record) made to pass the rule: lone surrogates, the control
 * characters and the bidirectional controls the rule refuses become spaces.
 */
export function cleanText(value: string, rule: CleanTextRule): string {
  const controls = new RegExp(rule.multiline ? CONTROL_CHARACTERS_BUT_TAB_AND_LF.source : CONTROL_CHARACTERS.source, 'g');
  return value.toWellFormed().replace(controls, ' ').replace(new RegExp(BIDI_CONTROLS.source, 'g'), ' ');
}

export function IsCleanText(rule: CleanTextRule, validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCleanText',
      validator: {
        validate: (value) => textProblem(value, rule) === null,
        defaultMessage: (args) => `${args?.property ?? 'text'} ${textProblem(args?.value, rule) ?? 'is not allowed'}`,
      },
    },
    validationOptions,
  );
}

/**
 * The rule of IsKeptInPlain, also as the OpenAPI document states it (`pattern`): no `@`, nor a
 * character whose NFKC form is one, the full-width U+FF20 and the small U+FE6B (both read as `@`).
 */
export const KEPT_IN_PLAIN_PATTERN = '^[^@\\uFE6B\\uFF20]*$';

const KEPT_IN_PLAIN = new RegExp(KEPT_IN_PLAIN_PATTERN);

/** Whether `value` may be kept in plain: it holds no `@` in any form (KEPT_IN_PLAIN_PATTERN). */
export function isKeptInPlain(value: string): boolean {
  return KEPT_IN_PLAIN.test(value);
}

/** Why `field`, text kept in plain, is refused when it holds an `@` in any form (isKeptInPlain). */
export function keptInPlainProblem(field: string): string {
  return `${field} must not hold an e-mail address, or an at sign in any form (@, \uFF20, \uFE6B): it is kept in plain, also after an erasure; say why, not who the guest is`;
}

/**
 * No `@` in any form, for free text staff write that is kept in plain for good (a reason in an
 * event, a reviewer's note or feedback, the fields of a reviewer's edit that are not personal):
 * outside every subject's key, a guest's e-mail address there would outlive their erasure and be
 * shown to every key. Names cannot be told from other words, so the docs (README, "Guest data")
 * ask staff to keep those out too.
 */
export function IsKeptInPlain(): PropertyDecorator {
  return Matches(KEPT_IN_PLAIN, { message: ({ property }) => keptInPlainProblem(property) });
}
