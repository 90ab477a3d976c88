import { hasVisibleCharacter, MULTI_LINE, textProblem } from './clean-text.validator';
import { isPlainObject } from './field-problems';
import { GUEST_LANGUAGES, GuestLanguage } from './guest-language';
import { MissionType } from './mission-type';

/** The JSON-schema subset these flat outputs need; the validator below understands exactly this much. */
export type OutputField =
  | { type: 'string'; enum?: readonly string[]; minLength?: number; maxLength: number; pattern?: string; description?: string }
  | { type: 'number'; description?: string }
  | { type: 'array'; items: { type: 'string'; maxLength: number }; maxItems: number; description?: string };

/**
 * Bounds of an output's text: a model caught in a loop (or a hostile server) could otherwise
 * return megabytes, stored in the log for good and carried by every later hop. Far above what a
 * reply, a reason or a list of steps needs.
 */
export const OUTPUT_TEXT_MAX_LENGTH = 10_000;
const MAX_ITEMS = 50;
const MAX_ITEM_TEXT = 2_000;

export type OutputSchema = {
  type: 'object';
  additionalProperties: false;
  required: readonly string[];
  properties: Readonly<Record<string, OutputField>>;
};

export type GuestSupportOutput = { language: GuestLanguage; reply: string; actions: string[] };
export type PricingOutput = { recommendedRate: number; currency: string; changePercent: number; reason: string };
export type MaintenanceUrgency = 'low' | 'medium' | 'high' | 'critical';
export type MaintenanceOutput = { urgency: MaintenanceUrgency; steps: string[]; safetyNotes: string[]; parts: string[] };

export const MAINTENANCE_URGENCIES: readonly MaintenanceUrgency[] = ['low', 'medium', 'high', 'critical'];

const stringList = (description: string): OutputField => ({
  type: 'array',
  items: { type: 'string', maxLength: MAX_ITEM_TEXT },
  maxItems: MAX_ITEMS,
  description,
});

export const GUEST_SUPPORT_OUTPUT_SCHEMA: OutputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['language', 'reply', 'actions'],
  properties: {
    language: { type: 'string', enum: GUEST_LANGUAGES, maxLength: OUTPUT_TEXT_MAX_LENGTH, description: 'language of the guest and of the reply' },
    reply: { type: 'string', minLength: 1, maxLength: OUTPUT_TEXT_MAX_LENGTH, description: 'reply draft to send to the guest' },
    actions: stringList('internal follow-up tasks for the hotel staff'),
  },
};

export const PRICING_OUTPUT_SCHEMA: OutputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['recommendedRate', 'currency', 'changePercent', 'reason'],
  properties: {
    recommendedRate: { type: 'number', description: 'recommended nightly rate' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$', maxLength: OUTPUT_TEXT_MAX_LENGTH, description: 'ISO 4217 code, e.g. EUR' },
    changePercent: { type: 'number', description: 'change against the current rate in percent' },
    reason: { type: 'string', minLength: 1, maxLength: OUTPUT_TEXT_MAX_LENGTH, description: 'why this rate' },
  },
};

export const MAINTENANCE_OUTPUT_SCHEMA: OutputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['urgency', 'steps', 'safetyNotes', 'parts'],
  properties: {
    urgency: { type: 'string', enum: MAINTENANCE_URGENCIES, maxLength: OUTPUT_TEXT_MAX_LENGTH },
    steps: stringList('ordered work steps for the technician'),
    safetyNotes: stringList('safety precautions; empty only when nothing is safety-relevant'),
    parts: stringList('parts and materials to bring'),
  },
};

export const OUTPUT_SCHEMAS: Readonly<Record<MissionType, OutputSchema>> = {
  guest_support: GUEST_SUPPORT_OUTPUT_SCHEMA,
  pricing: PRICING_OUTPUT_SCHEMA,
  maintenance: MAINTENANCE_OUTPUT_SCHEMA,
};

/** Problems with `output` against the schema of `type`, one sentence each; empty when valid. */
export function validateOutput(type: MissionType, output: unknown): string[] {
  const schema = OUTPUT_SCHEMAS[type];
  if (!isPlainObject(output)) return ['output must be a JSON object'];
  const problems = schema.required.filter((key) => !Object.hasOwn(output, key)).map((key) => `${key} is required`);
  let unknown = 0;
  for (const [key, value] of Object.entries(output)) {
    if (!Object.hasOwn(schema.properties, key)) unknown += 1;
    else problems.push(...fieldProblems(key, schema.properties[key], value));
  }
  // Not named: the names are the model's text, and the problem goes into the failed attempt's error, in plain.
  if (unknown > 0) problems.push(`${unknown} field${unknown === 1 ? ' is' : 's are'} not allowed (allowed: ${Object.keys(schema.properties).join(', ')})`);
  return problems;
}

function fieldProblems(key: string, field: OutputField, value: unknown): string[] {
  switch (field.type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? [] : [`${key} must be a finite number`];
    case 'array': {
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return [`${key} must be an array of strings`];
      if (value.length > field.maxItems) return [`${key} must hold at most ${field.maxItems} items`];
      if (value.some((item) => item.length > field.items.maxLength)) return [`${key} items must be at most ${field.items.maxLength} characters`];
      const problem = value.map((item) => textProblem(item, MULTI_LINE)).find((found) => found !== null);
      return problem ? [`${key} ${problem}`] : [];
    }
    case 'string': {
      if (typeof value !== 'string') return [`${key} must be a string`];
      if (value.length > field.maxLength) return [`${key} must be at most ${field.maxLength} characters`];
      // The text rule a reviewer's edit keeps: the model's text reaches the guest, the ERP and terminals as well.
      const problem = textProblem(value, MULTI_LINE);
      if (problem) return [`${key} ${problem}`];
      if (field.enum && !field.enum.includes(value)) return [`${key} must be one of ${field.enum.join(', ')}`];
      // Spaces or invisible characters alone (a zero-width space) read as nothing, to a guest as to a reviewer.
      if (field.minLength !== undefined && (value.trim().length < field.minLength || !hasVisibleCharacter(value))) return [`${key} must not be empty`];
      if (field.pattern && !new RegExp(field.pattern).test(value)) return [`${key} must match ${field.pattern}`];
      return [];
    }
  }
}
