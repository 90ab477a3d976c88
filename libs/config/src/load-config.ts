import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { ReviewPolicyError } from '@app/mission';
import { Environment } from './environment';
import { redisUrlDatabase } from './redis-url';
import { readReviewPolicy } from './review-policy-file';
import { readSecretFile } from './secret-file';

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

/** Reads and validates the environment; unknown variables are ignored, empty ones count as unset (but see NOT_EMPTY). */
export function loadEnvironment(source: NodeJS.ProcessEnv = process.env): Environment {
  const known = environmentVariableNames();
  const present = Object.fromEntries(Object.entries(source).filter(([key, value]) => known.includes(key) && value !== undefined && value !== ''));
  const env = plainToInstance(Environment, present, { excludeExtraneousValues: true, exposeDefaultValues: true });
  const empty = NOT_EMPTY.filter((name) => source[name] === '').map((name) => `${name}="": set but empty; unset it for the default or give a value`);
  const errors = validateSync(env, { forbidUnknownValues: true });
  if (empty.length + errors.length > 0) throw new ConfigError([...empty, ...errors.map((error) => describe(error, present[error.property]))]);
  const conflicts = [...combinationProblems(env), ...dataKeyProblems(env, source.NODE_ENV)];
  if (conflicts.length > 0) throw new ConfigError(conflicts);
  return env;
}

/**
 * Values that are each valid but do not work together; checked at start, so a service stops with
 * exit 78 and a message instead of failing later while its modules are built.
 */
export function combinationProblems(env: Environment): string[] {
  const problems: string[] = [];
  if (env.LLM_PROVIDER === 'openai') {
    const missing = (['LLM_BASE_URL', 'LLM_MODEL'] as const).filter((name) => !env[name]);
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
  problems.push(...reviewPolicyProblems(env.REVIEW_POLICY_FILE));
  const database = redisUrlDatabase(env.REDIS_URL, 'REDIS_URL');
  if (env.REDIS_CLUSTER_NODES?.trim() && database !== 0) {
    // The Cluster client ignores REDIS_URL, so the deployment would run in database 0 unsaid.
    problems.push(
      `REDIS_URL names database ${database}, but REDIS_CLUSTER_NODES is set and a Redis Cluster has database 0 only; drop the database from REDIS_URL`,
    );
  }
  if (env.ODOO_URL) {
    const missing = (['ODOO_DB', 'ODOO_LOGIN', 'ODOO_API_KEY'] as const).filter((name) => !env[name]);
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
  const files = [env.DATA_KEY_FILE, ...env.DATA_KEY_PREVIOUS_FILES.split(',')].map((file) => file.trim()).filter(Boolean);
  for (const file of files) {
    let secret: string | undefined;
    try {
      secret = readSecretFile(file);
    } catch (error) {
      problems.push(`cannot read the master key file ${file}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (secret === undefined) problems.push(`the master key file ${file} does not exist`);
    else if (secret.length < 32) problems.push(`the master key file ${file} holds fewer than 32 characters`);
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
const SECRET_VARIABLES = new Set(['API_KEYS', 'LLM_API_KEY', 'LLM_BASE_URL', 'REDIS_URL', 'ODOO_API_KEY', 'DATA_KEY_SECRET', 'DATA_KEY_PREVIOUS_SECRETS']);

/** The rules that say a variable is a number: when one fails, its bounds have nothing to add. */
const NUMBER_RULES = ['isInt', 'isNumber'];

/** Names the value as it was written in the environment, not as converted (a NaN would read "null"). */
function describe(error: ValidationError, raw: string | undefined): string {
  const failed = Object.entries(error.constraints ?? {});
  const kind = failed.filter(([rule]) => NUMBER_RULES.includes(rule));
  // "LOG_PARTITIONS must be an integer number", not also "must not be less than 1; must not be greater than 256".
  const reasons = (kind.length > 0 ? kind : failed).map(([, message]) => message).join('; ');
  const shown = SECRET_VARIABLES.has(error.property) ? '(hidden)' : JSON.stringify(raw);
  return `${error.property}=${shown}: ${reasons}`;
}
