import { Mission } from './mission-state';
import { MISSION_TYPES, MissionType, PRIORITY_LEVELS, PriorityLevel } from './mission-type';

/** A fact of the payload a rule names: a dot path (`guest.vip`) and the value it must have. */
export type PayloadFact = string | number | boolean;

/**
 * One rule of the review policy: a passing result is held for a reviewer when every condition the
 * rule names holds (a rule that names none holds for every result). The first rule that holds is
 * recorded in MissionReviewRequested.
 */
export interface ReviewRule {
  name: string;
  /** Only missions of these types. */
  types?: MissionType[];
  /** Only missions of these priority levels. */
  priorities?: PriorityLevel[];
  /** Only results the judge scored below this (0..1). */
  scoreBelow?: number;
  /** Only missions whose payload has each of these values at its path. */
  payload?: Record<string, PayloadFact>;
  /**
   * Pricing: only results whose `recommendedRate` moves more than this many percent from the
   * payload's `currentRate`, or whose move cannot be computed (no current rate), as money is at stake.
   * Only in a rule of type pricing alone (parseReviewPolicy), as atRateBound.
   */
  rateChangeAbovePercent?: number;
  /** Pricing: only results whose `recommendedRate` is at or beyond the payload's `minRate` or `maxRate`. */
  atRateBound?: true;
}

export interface ReviewPolicy {
  rules: ReviewRule[];
}

/** No rule: every passing result succeeds at once. */
export const NO_REVIEW_POLICY: ReviewPolicy = { rules: [] };

/** What the rules look at: the mission, its result's output and the judge's score. */
export interface ReviewCandidate {
  mission: Pick<Mission, 'type' | 'priority' | 'payload'>;
  output: Record<string, unknown>;
  score: number;
}

/** The name of the first rule that holds for the candidate, or null when the result needs no review. */
export function reviewRuleFor(policy: ReviewPolicy, candidate: ReviewCandidate): string | null {
  return policy.rules.find((rule) => holds(rule, candidate))?.name ?? null;
}

function holds(rule: ReviewRule, { mission, output, score }: ReviewCandidate): boolean {
  if (rule.types && !rule.types.includes(mission.type)) return false;
  if (rule.priorities && !rule.priorities.includes(mission.priority)) return false;
  if (rule.scoreBelow !== undefined && !(score < rule.scoreBelow)) return false;
  if (rule.payload && !Object.entries(rule.payload).every(([path, value]) => valueAt(mission.payload, path) === value)) return false;
  const rate = finite(output.recommendedRate);
  if (rule.rateChangeAbovePercent !== undefined) {
    const current = finite(mission.payload.currentRate);
    const moved = rate === undefined || current === undefined || current <= 0 || (Math.abs(rate - current) / current) * 100 > rule.rateChangeAbovePercent;
    if (!moved) return false;
  }
  if (rule.atRateBound) {
    const min = finite(mission.payload.minRate);
    const max = finite(mission.payload.maxRate);
    const atBound = rate !== undefined && ((min !== undefined && rate <= min) || (max !== undefined && rate >= max));
    if (!atBound) return false;
  }
  return true;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function valueAt(payload: Record<string, unknown>, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((value, key) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined), payload);
}

export class ReviewPolicyError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ReviewPolicyError';
  }
}

const RULE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const PAYLOAD_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const RULE_KEYS = ['name', 'type', 'priority', 'scoreBelow', 'payload', 'rateChangeAbovePercent', 'atRateBound'];

/**
 * The policy in a parsed JSON or YAML document: `{rules: [{name, type?, priority?, scoreBelow?,
 * payload?, rateChangeAbovePercent?, atRateBound?}, …]}`, `type` and `priority` one value or a
 * list. Throws ReviewPolicyError with one problem per bad rule field, each naming its rule.
 */
export function parseReviewPolicy(document: unknown): ReviewPolicy {
  if (!isObject(document) || !Array.isArray(document.rules)) throw new ReviewPolicyError(['the policy must be an object with a list "rules"']);
  const extra = Object.keys(document).filter((key) => key !== 'rules');
  const problems = extra.map((key) => `unknown top-level key "${key}" (only "rules")`);
  const names = new Set<string>();
  const rules = document.rules.map((raw: unknown, index: number) => {
    const { rule, problems: ruleProblems } = parseRule(raw, index, names);
    problems.push(...ruleProblems);
    return rule;
  });
  if (problems.length > 0) throw new ReviewPolicyError(problems);
  return { rules };
}

function parseRule(raw: unknown, index: number, names: Set<string>): { rule: ReviewRule; problems: string[] } {
  const problems: string[] = [];
  const fields = isObject(raw) ? raw : {};
  const name = typeof fields.name === 'string' ? fields.name : '';
  const where = `rule ${index + 1}${name ? ` ("${name}")` : ''}`;
  const problem = (text: string) => problems.push(`${where}: ${text}`);
  if (!isObject(raw)) problem('must be an object');
  if (!RULE_NAME.test(name)) problem('"name" must be 1 to 64 letters, digits or _ . -');
  else if (names.has(name)) problem('"name" is used by an earlier rule');
  names.add(name);
  for (const key of Object.keys(fields).filter((key) => !RULE_KEYS.includes(key))) problem(`unknown key "${key}" (allowed: ${RULE_KEYS.join(', ')})`);
  const rule: ReviewRule = { name };
  if (fields.type !== undefined) {
    const types = listOf(fields.type, MISSION_TYPES);
    if (types) rule.types = types;
    else problem(`"type" must be one of ${MISSION_TYPES.join(', ')}, or a non-empty list of them`);
  }
  if (fields.priority !== undefined) {
    const priorities = listOf(fields.priority, PRIORITY_LEVELS);
    if (priorities) rule.priorities = priorities;
    else problem(`"priority" must be one of ${PRIORITY_LEVELS.join(', ')}, or a non-empty list of them`);
  }
  if (fields.scoreBelow !== undefined) {
    if (typeof fields.scoreBelow === 'number' && fields.scoreBelow > 0 && fields.scoreBelow <= 1) rule.scoreBelow = fields.scoreBelow;
    else problem('"scoreBelow" must be a number above 0 and at most 1');
  }
  if (fields.payload !== undefined) {
    const facts = isObject(fields.payload) ? Object.entries(fields.payload) : [];
    const valid = facts.length > 0 && facts.every(([path, value]) => PAYLOAD_PATH.test(path) && ['string', 'number', 'boolean'].includes(typeof value));
    if (valid) rule.payload = Object.fromEntries(facts) as Record<string, PayloadFact>;
    else problem('"payload" must map dot paths (e.g. guest.vip) to a string, number or boolean, at least one');
  }
  if (fields.rateChangeAbovePercent !== undefined) {
    const percent = fields.rateChangeAbovePercent;
    if (typeof percent === 'number' && Number.isFinite(percent) && percent >= 0) rule.rateChangeAbovePercent = percent;
    else problem('"rateChangeAbovePercent" must be a number of at least 0');
  }
  if (fields.atRateBound !== undefined) {
    if (fields.atRateBound === true) rule.atRateBound = true;
    else problem('"atRateBound" must be true (leave it out otherwise)');
  }
  // They read a pricing result's rate: on any other result the rate is missing, which counts as a
  // move that cannot be computed, so such a rule without the type held every reply and report.
  const pricingConditions = (['rateChangeAbovePercent', 'atRateBound'] as const).filter((key) => rule[key] !== undefined);
  const onlyPricing = rule.types?.length === 1 && rule.types[0] === 'pricing';
  if (pricingConditions.length > 0 && !onlyPricing && (fields.type === undefined || rule.types)) {
    problem(`"type" must be pricing alone with ${pricingConditions.map((key) => `"${key}"`).join(' and ')}: a pricing condition reads the recommendedRate`);
  }
  return { rule, problems };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One allowed value or a non-empty list of them, as a list; undefined when anything else. */
function listOf<T extends string>(value: unknown, allowed: readonly T[]): T[] | undefined {
  const list = Array.isArray(value) ? value : [value];
  const valid = list.length > 0 && list.every((item) => (allowed as readonly unknown[]).includes(item));
  return valid ? [...new Set(list as T[])] : undefined;
}
