import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { maxLength } from 'class-validator';
import { decodeHTML } from 'entities';
import { ConfigError } from '@app/config';
import {
  cleanText,
  MAX_TITLE_LENGTH,
  MISSION_TYPES,
  MissionCreateDto,
  MissionType,
  MULTI_LINE,
  PRIORITY_LEVELS,
  PriorityLevel,
  SINGLE_LINE,
  textProblem,
} from '@app/mission';

/** One rule of the mapping file: which records of a model become which missions. */
export interface OdooMappingRule {
  /** Names the rule's cursor; kebab-case. */
  name: string;
  model: string;
  /** An Odoo domain the records must also match (e.g. a team for pricing requests). */
  domain: unknown[];
  missionType: MissionType;
  /** Field that gives the mission's title. */
  title: string;
  /** Field that gives the description (HTML is reduced to text); the title when empty. */
  description: string;
  /** A many2one field whose display name is the guest or requester (`payload.guest.name`). */
  partner?: string;
  /**
   * The title field may hold guest data (a ticket's subject line, written by the guest): its text
   * opens the description, which is stored encrypted, and the mission is titled `<model> #<id>`,
   * since titles are stored in plain. Default: true when the rule names a `partner`.
   */
  personalTitle?: boolean;
  /** payload key → Odoo field; many2one values become their display name; empty values are left out. */
  payload: Record<string, string>;
  /** After a success, write this value to this field of the record (e.g. a maintenance stage); null: leave it. */
  stageOnSuccess?: { field: string; value: number | string } | null;
}

export interface OdooMapping {
  /** Odoo's `priority` selection ('0'–'3') → mission priority level. */
  priorities: Record<string, PriorityLevel>;
  rules: OdooMappingRule[];
}

/** The mapping shipped with the connector; ODOO_MAPPING_FILE names another. */
export const DEFAULT_MAPPING_FILE = join(__dirname, 'odoo-mapping.json');

/**
 * Reads and checks a mapping file (`file`, from ODOO_MAPPING_FILE; the shipped one when undefined).
 * A file that is missing, no JSON, or not shaped as a mapping is a ConfigError naming the variable,
 * the file and each problem, so the connector stops at start with one message and exit 78 rather
 * than a stack trace, or a rule that fails at its first poll.
 */
export function loadOdooMapping(file?: string): OdooMapping {
  const where = file === undefined ? `the shipped mapping ${DEFAULT_MAPPING_FILE}` : `ODOO_MAPPING_FILE=${JSON.stringify(file)}`;
  let text: string;
  try {
    text = readFileSync(file ?? DEFAULT_MAPPING_FILE, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([`${where}: cannot be read: ${code === 'ENOENT' ? 'there is no such file' : (code ?? String(error))}`]);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${where}: is no JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const problems = mappingProblems(document);
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => `${where}: ${problem}`));
  return document as OdooMapping;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isName = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * Payload keys missionOf sets itself. Mapped, a field overwrote them: `odoo` is how the write-back
 * finds the record's rule (its stageOnSuccess silently stopped), and `guest` would carry a raw field
 * (an e-mail) where the guest's name and data-subject id belong.
 */
const RESERVED_PAYLOAD_KEYS: Readonly<Record<string, string>> = {
  odoo: 'the connector sets it to the record and rule a mission came from, which the write-back reads',
  guest: 'the connector sets it from the rule\'s "partner" (the guest\'s name and id); name the partner field there',
};

/** What is wrong with a parsed mapping file: each field the connector reads, checked for its kind. */
function mappingProblems(document: unknown): string[] {
  if (!isObject(document)) return ['must be a JSON object with "priorities" and "rules"'];
  const problems: string[] = [];
  if (!isObject(document.priorities)) problems.push("priorities: an object from Odoo's priority ('0'–'3') to a priority level is needed");
  else
    for (const [key, level] of Object.entries(document.priorities))
      if (!PRIORITY_LEVELS.includes(level as PriorityLevel)) problems.push(`priorities.${key}: ${JSON.stringify(level)} is no priority level`);
  if (!Array.isArray(document.rules) || document.rules.length === 0) return [...problems, 'rules: a list of at least one rule is needed'];
  const names = new Set<unknown>();
  for (const [index, rule] of document.rules.entries()) {
    if (!isObject(rule)) {
      problems.push(`rules[${index}]: must be an object`);
      continue;
    }
    const { name } = rule;
    const label = `rule ${typeof name === 'string' ? name : `#${index + 1}`}`;
    if (typeof name !== 'string' || !/^[a-z0-9-]+$/.test(name) || names.has(name))
      problems.push(`rule ${JSON.stringify(name)}: a unique kebab-case name is needed`);
    names.add(name);
    if (!MISSION_TYPES.includes(rule.missionType as MissionType)) problems.push(`${label}: ${JSON.stringify(rule.missionType)} is no mission type`);
    if (!isName(rule.model) || !isName(rule.title) || !Array.isArray(rule.domain)) problems.push(`${label}: model, title and domain are needed`);
    if (!isName(rule.description)) problems.push(`${label}: description (the field that gives it) is needed`);
    if (rule.partner !== undefined && !isName(rule.partner)) problems.push(`${label}: partner must name a field`);
    if (rule.personalTitle !== undefined && typeof rule.personalTitle !== 'boolean') problems.push(`${label}: personalTitle must be true or false`);
    if (!isObject(rule.payload) || !Object.values(rule.payload).every(isName))
      problems.push(`${label}: payload must be an object from payload key to Odoo field ({} for none)`);
    else
      for (const [key, why] of Object.entries(RESERVED_PAYLOAD_KEYS))
        if (Object.hasOwn(rule.payload, key)) problems.push(`${label}: payload key "${key}" is reserved: ${why}`);
    const stage = rule.stageOnSuccess;
    if (stage !== undefined && stage !== null && !(isObject(stage) && isName(stage.field) && ['number', 'string'].includes(typeof stage.value)))
      problems.push(`${label}: stageOnSuccess must be null or {"field": <field>, "value": <number or string>}`);
  }
  return problems;
}

/** The fields a rule reads with search_read. */
export function fieldsOf(rule: OdooMappingRule): string[] {
  return [...new Set(['write_date', 'priority', rule.title, rule.description, ...(rule.partner ? [rule.partner] : []), ...Object.values(rule.payload)])];
}

/** A many2one as Odoo's external API gives it: [id, display name]. */
function isMany2one(value: unknown): value is [number, string] {
  return Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string';
}

/** A one2many or many2many as Odoo gives it: its records' ids, none or more. Read as no value, as ever: a rule's field of that kind is left out, not refused. */
function isX2many(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((id) => Number.isSafeInteger(id));
}

/**
 * Why the fields a rule reads from `record` are not what Odoo's fields give (text, a number, a
 * yes/no, false for empty, a many2one, a x2many's ids), one line each; none when they are. Such a value was read
 * anyway: any list as a many2one (`["a","b"]` as "b"), an object as "[object Object]", so part of
 * what the record held, or nothing of it, went into the mission as if it were all.
 */
export function recordFieldProblems(rule: OdooMappingRule, record: Record<string, unknown>): string[] {
  const fields = [rule.title, rule.description, ...(rule.partner ? [rule.partner] : []), ...Object.values(rule.payload)];
  return [...new Set(fields)].flatMap((field) => {
    const value = record[field];
    const readable = value === undefined || value === null || ['string', 'number', 'boolean'].includes(typeof value) || isMany2one(value) || isX2many(value);
    return readable
      ? []
      : [`field ${field} holds ${Array.isArray(value) ? 'a list' : 'an object'} that is no many2one ([id, name]): the rule cannot read it as a value`];
  });
}

/** A many2one comes as [id, display name]; false means empty. */
function plain(value: unknown): string | number | boolean | null {
  if (Array.isArray(value)) return typeof value[1] === 'string' ? value[1] : null;
  if (value === false || value === undefined || value === null || value === '') return null;
  return typeof value === 'number' || typeof value === 'boolean' ? value : String(value);
}

/**
 * The guest's id from a many2one `[id, name]`: `odoo-partner-<id>`, so the mission's data subject is
 * `guest:odoo-partner-<id>` and all of one partner's tickets are erased, retained and accessed
 * together (README, "Guest data"); the prefix keeps Odoo's ids apart from other systems' guest ids.
 */
function partnerId(value: unknown): { id: string } | Record<string, never> {
  return Array.isArray(value) && Number.isSafeInteger(value[0]) && (value[0] as number) > 0 ? { id: `odoo-partner-${value[0] as number}` } : {};
}

/**
 * Odoo's html fields as text: tags out, entities in, whitespace kept to lines. Every entity HTML
 * knows is decoded as a browser would (entities' decodeHTML), in one pass so `&amp;lt;` stays
 * `&lt;`: Odoo escapes `"` as `&#34;`, and tickets from mails carry `&rsquo;`, `&eacute;`, `&#8364;`,
 * `&#x1F600;`. A code point that is none (`&#xD800;`, `&#x110000;`) becomes U+FFFD.
 */
export function htmlToText(html: string): string {
  const withoutTags = html.replace(/<(br|\/p|\/div|\/li)\s*\/?>/gi, '\n').replace(/<[^>]*>/g, '');
  // After the tags are out, so a decoded `&lt;b&gt;` stays text. &nbsp; becomes U+00A0, a space below.
  return decodeHTML(withoutTags)
    .replace(/\r/g, '')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * The mission a record becomes under a rule: type, title, description, priority, guest, payload and
 * the Odoo source. Nothing is cut: a record whose text does not fit the intake's limits (a
 * description too long, text over MAX_MISSION_TEXT_BYTES) makes a mission the intake refuses, and
 * the poller sets the record aside with a note saying why, rather than sending part of what the
 * guest wrote as if it were all.
 */
export function missionOf(mapping: OdooMapping, rule: OdooMappingRule, record: Record<string, unknown> & { id: number }): MissionCreateDto {
  // The intake refuses control characters; Odoo text may hold them (pasted mails).
  const clean = (text: string, multiLine: boolean) => cleanText(text, multiLine ? MULTI_LINE : SINGLE_LINE);
  const named = `${rule.model} #${record.id}`;
  const recordTitle = clean(String(plain(record[rule.title]) ?? '').trim(), false).trim();
  const body = clean(htmlToText(String(plain(record[rule.description]) ?? '')), true);
  // A title with nothing visible (empty, spaces, invisible characters) holds no guest data: it stays,
  // for the intake's rule to refuse, as the README promises. Falling back to `<model> #<id>` for an
  // empty one took in a record with nothing to act on (blank title, empty description) as a mission.
  // One too long for the title field opens the description whole, as a personal one does.
  const titleIsMoved =
    ((rule.personalTitle ?? Boolean(rule.partner)) || !maxLength(recordTitle, MAX_TITLE_LENGTH)) && textProblem(recordTitle, SINGLE_LINE) === null;
  const title = titleIsMoved ? named : recordTitle;
  const description = (titleIsMoved ? [recordTitle, body].filter(Boolean).join('\n\n') : body) || title;
  const payload: Record<string, unknown> = { odoo: { model: rule.model, recordId: record.id, rule: rule.name } };
  const partnerField = rule.partner ? record[rule.partner] : null;
  const partner = plain(partnerField);
  if (typeof partner === 'string') payload.guest = { ...partnerId(partnerField), name: clean(partner, false) };
  for (const [key, field] of Object.entries(rule.payload)) {
    const value = plain(record[field]);
    if (value !== null) payload[key] = typeof value === 'string' ? clean(value, false) : value;
  }
  return {
    type: rule.missionType,
    title,
    description,
    // Own keys only: `__proto__` or `constructor` as a priority read the object's own machinery.
    priority: priorityOf(mapping, record.priority),
    payload,
    source: { system: 'odoo', model: rule.model, recordId: record.id },
  };
}

/** The mission's priority level for a record's Odoo priority by the mapping; `normal` for one it does not name. */
function priorityOf(mapping: OdooMapping, priority: unknown): PriorityLevel {
  const key = String(priority ?? '1');
  return Object.hasOwn(mapping.priorities, key) ? mapping.priorities[key] : 'normal';
}
