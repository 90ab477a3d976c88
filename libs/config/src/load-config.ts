import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { ReviewPolicyError } from '@app/mission';
import { commaList } from './comma-list';
import { DECIMAL_INTEGER } from './decimal-integer';
import { Environment } from './environment';
import { redisUrlDatabase } from './redis-url';
import { readReviewPolicy } from './review-policy-file';
import { namedKeyFile, readSecretFile } from './secret-file';
import { hideUrlCredentials, hideUrlSecrets } from './url-credentials';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Every variable of the Environment class: each property it declares a rule for. */
export function environmentVariableNames(): string[] {
  const rules = getMetadataStorage().getTargetValidationMetadatas(Environment, '', true, false);
  return [...new Set(rules.map((rule) => rule.propertyName))];
}

/**
 * Set but empty, these are refused rather than taken as unset: an empty KEY_PREFIX would give the
 * default `brain:`, which may be another deployment's keys in the same Redis.
 */
const NOT_EMPTY = ['KEY_PREFIX'];

/**
 * Reads and validates the environment; unknown variables are ignored, empty ones count as unset (but
 * see NOT_EMPTY). A number variable is read from its text (numberTextProblem) before it is converted.
 */
export function loadEnvironment(source: NodeJS.ProcessEnv = process.env): Environment {
  const known = environmentVariableNames();
  const present = Object.fromEntries(Object.entries(source).filter(([key, value]) => known.includes(key) && value !== undefined && value !== ''));
  const empty = NOT_EMPTY.filter((name) => source[name] === '').map((name) => `${name}="": set but empty; unset it for the default or give a value`);
  const numberProblems: string[] = [];
  for (const [name, text] of numberVariables()) {
    const raw = present[name];
    if (raw === undefined) continue;
    const problem = numberTextProblem(name, raw, text);
    // Dropped, it takes its default, which is valid: the one problem named is the text's.
    if (problem) {
      numberProblems.push(problem);
      delete present[name];
    } else present[name] = raw.trim();
  }
  const env = plainToInstance(Environment, present, { excludeExtraneousValues: true, exposeDefaultValues: true });
  const errors = validateSync(env, { forbidUnknownValues: true });
  if (empty.length + numberProblems.length + errors.length > 0) {
    throw new ConfigError([...empty, ...numberProblems, ...errors.map((error) => describe(error, present[error.property]))]);
  }
  const conflicts = [...combinationProblems(env), ...dataKeyProblems(env, source.NODE_ENV)];
  if (conflicts.length > 0) throw new ConfigError(conflicts);
  return env;
}

/**
 * How a number variable is written, by its rule: decimal digits (with a sign, so that a negative
 * value is refused by its bounds, which say why), and for a rate a decimal point. Number(), which
 * the conversion uses, also takes `0x3`, `0b11`, `1e1`, `+3` and, worst, blanks, which it reads as 0.
 */
const NUMBER_TEXT = new Map<string, NumberText>([
  ['isInt', { pattern: DECIMAL_INTEGER, kind: 'an integer number' }],
  ['isNumber', { pattern: /^-?\d+(\.\d+)?$/, kind: 'a number' }],
]);

interface NumberText {
  pattern: RegExp;
  /** What the value must be, for the message. */
  kind: string;
}

/** Each number variable of the Environment class with how its text must be written. */
function numberVariables(): Map<string, NumberText> {
  const rules = getMetadataStorage().getTargetValidationMetadatas(Environment, '', true, false);
  return new Map(
    rules.flatMap((rule) => {
      const text = rule.name === undefined ? undefined : NUMBER_TEXT.get(rule.name);
      return text ? [[rule.propertyName, text] as const] : [];
    }),
  );
}

/**
 * Why a number variable's text is refused, or undefined. Spaces around the number are dropped, as
 * the launcher reads its port variables; a value of blanks only is refused like an empty KEY_PREFIX
 * rather than read as 0 or taken as unset.
 */
function numberTextProblem(name: string, raw: string, { pattern, kind }: NumberText): string | undefined {
  const text = raw.trim();
  if (text === '') return setButBlank(name, raw);
  if (!pattern.test(text)) return `${name}=${shown(name, raw)}: ${name} must be ${kind} in decimal digits`;
  return undefined;
}

/** The refusal of a number variable (or launcher port) of blanks only, which would otherwise be read as 0 or as unset. */
export function setButBlank(name: string, raw: string): string {
  return `${name}=${JSON.stringify(raw)}: set but blank; unset it for the default or give a value`;
}

/**
 * Values that are each valid but do not work together; checked at start, so a service stops with
 * exit 78 and a message instead of failing later while its modules are built.
 */
export function combinationProblems(env: Environment): string[] {
  const problems: string[] = [];
  if (env.LLM_PROVIDER === 'openai') {
    // Blank counts as missing, as createLlmClient reads them.
    const missing = (['LLM_BASE_URL', 'LLM_MODEL'] as const).filter((name) => !env[name].trim());
    if (missing.length > 0) {
      problems.push(`LLM_PROVIDER="openai" needs ${missing.join(' and ')} (the server, e.g. https://api.openai.com/v1, and the model name)`);
    }
  }
  if (env.JUDGE === 'llm' && env.LLM_PROVIDER === 'mock' && env.JUDGE_ALLOW_MOCK !== 'true') {
    problems.push(
      'JUDGE="llm" with LLM_PROVIDER="mock": the mock model would judge, which checks nothing; ' +
        'set LLM_PROVIDER=openai (with LLM_BASE_URL and LLM_MODEL), or JUDGE=rules, or JUDGE_ALLOW_MOCK=true to run it anyway',
    );
  }
  if (env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE > env.OTEL_BSP_MAX_QUEUE_SIZE) {
    problems.push(
      `OTEL_BSP_MAX_EXPORT_BATCH_SIZE (${env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE}) must not be more than OTEL_BSP_MAX_QUEUE_SIZE (${env.OTEL_BSP_MAX_QUEUE_SIZE})`,
    );
  }
  if (env.MAX_MISSION_TEXT_BYTES >= env.BODY_LIMIT_BYTES) {
    // The text comes in a JSON body (REST or stream), with field names and quoting on top: a text of
    // the allowed size would be refused as too large (413) before its own limit is looked at.
    problems.push(
      `MAX_MISSION_TEXT_BYTES (${env.MAX_MISSION_TEXT_BYTES}) must be less than BODY_LIMIT_BYTES (${env.BODY_LIMIT_BYTES}): ` +
        'the mission text comes in a JSON body, which a longer text would take past its limit',
    );
  }
  problems.push(...reviewPolicyProblems(env.REVIEW_POLICY_FILE));
  const database = redisUrlDatabase(env.REDIS_URL, 'REDIS_URL');
  if (env.REDIS_CLUSTER_NODES?.trim() && database !== 0) {
    // The Cluster client ignores REDIS_URL, so the deployment would run in database 0 unsaid.
    problems.push(
      `REDIS_URL names database ${database}, but REDIS_CLUSTER_NODES is set and a Redis Cluster has database 0 only; drop the database from REDIS_URL`,
    );
  }
  if (env.ODOO_URL) {
    // Blank counts as missing: Odoo knows no database, login or key of blanks.
    const missing = (['ODOO_DB', 'ODOO_LOGIN', 'ODOO_API_KEY'] as const).filter((name) => !env[name].trim());
    if (missing.length > 0) problems.push(`ODOO_URL is set, so the Odoo connector needs ${missing.join(', ')} too`);
  }
  return problems;
}

/**
 * The master key must be readable at start, so a service never runs without being able to read
 * or write guest data; production must be given one (a generated local key would differ per host).
 */
export function dataKeyProblems(env: Environment, nodeEnv: string | undefined): string[] {
  const problems: string[] = [];
  const source = dataKeySourceProblem(env);
  if (source) problems.push(source);
  if (!env.DATA_KEY_SECRET && !env.DATA_KEY_FILE && nodeEnv === 'production') {
    problems.push(
      'NODE_ENV=production needs a master key for guest data: set DATA_KEY_SECRET (32+ random characters, e.g. `openssl rand -base64 32`) or DATA_KEY_FILE; ' +
        'every process of the deployment must use the same one',
    );
  }
  // Each named by its variable (and place in the list), so the message says which to mend.
  const files = [
    ...(env.DATA_KEY_FILE.trim() ? [{ where: 'DATA_KEY_FILE', file: env.DATA_KEY_FILE.trim() }] : []),
    ...commaList(env.DATA_KEY_PREVIOUS_FILES).map((file, index) => ({ where: `DATA_KEY_PREVIOUS_FILES entry ${index + 1}`, file })),
  ];
  for (const { where, file } of files) {
    const named = namedKeyFile(where, file);
    try {
      const secret = readSecretFile(file, (text) => {
        if (text.length < 32) throw new Error('holds fewer than 32 characters');
      });
      if (secret === undefined) problems.push(`${named}: does not exist`);
    } catch (error) {
      problems.push(`${named}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return problems;
}

/**
 * Where the current master key comes from, one place at most: given both, whichever a reader
 * preferred would win silently, and a service and a command-line tool might each take another.
 * Shared by the services' configuration check and loadMasterKeys (the command-line tools).
 */
export function dataKeySourceProblem(env: Pick<Environment, 'DATA_KEY_SECRET' | 'DATA_KEY_FILE'>): string | undefined {
  return env.DATA_KEY_SECRET && env.DATA_KEY_FILE ? 'set DATA_KEY_SECRET or DATA_KEY_FILE, not both' : undefined;
}

/** A bad review policy stops every service at start, each problem naming its rule. */
function reviewPolicyProblems(file: string): string[] {
  try {
    readReviewPolicy(file);
    return [];
  } catch (error) {
    if (error instanceof ReviewPolicyError) return error.problems;
    throw error;
  }
}

/** Never echoed in an error message: they hold secrets. */
const SECRET_VARIABLES = new Set(['API_KEYS', 'LLM_API_KEY', 'ODOO_API_KEY', 'DATA_KEY_SECRET', 'DATA_KEY_PREVIOUS_SECRETS']);

/**
 * URLs whose secrets are their user-info (REDIS_URL's password; one in LLM_BASE_URL or ODOO_URL is
 * refused) or query: echoed with those masked (hideUrlSecrets), so a typo in the rest shows.
 */
const URL_VARIABLES = new Set(['REDIS_URL', 'LLM_BASE_URL', 'ODOO_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);

/** Names the value as it was written in the environment, not as converted. */
function describe(error: ValidationError, raw: string | undefined): string {
  const reasons = Object.values(error.constraints ?? {}).join('; ');
  return `${error.property}=${shown(error.property, raw)}: ${reasons}`;
}

/** A value otherwise shown keeps a URL's password in it out of the log. */
function shown(name: string, raw: string | undefined): string {
  if (SECRET_VARIABLES.has(name)) return '(hidden)';
  if (raw === undefined) return JSON.stringify(raw);
  return JSON.stringify(URL_VARIABLES.has(name) ? hideUrlSecrets(raw) : hideUrlCredentials(raw));
}
