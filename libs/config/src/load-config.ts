import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { Environment } from './environment';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; unknown variables are ignored, empty ones count as unset. */
export function loadEnvironment(source: NodeJS.ProcessEnv = process.env): Environment {
  const known = Object.keys(new Environment()).concat(
    'PORT',
    'REDIS_CLUSTER_NODES',
    'LOG_FORMAT',
    'EXECUTION_TIMEOUT_MS_GUEST_SUPPORT',
    'EXECUTION_TIMEOUT_MS_PRICING',
    'EXECUTION_TIMEOUT_MS_MAINTENANCE',
  );
  const present = Object.fromEntries(
    Object.entries(source).filter(([key, value]) => known.includes(key) && value !== undefined && value !== ''),
  );
  const env = plainToInstance(Environment, present, { excludeExtraneousValues: true, exposeDefaultValues: true });
  const errors = validateSync(env, { forbidUnknownValues: true });
  if (errors.length > 0) throw new ConfigError(errors.map((error) => describe(error, present[error.property])));
  return env;
}

/** Never echoed in an error message: they hold secrets. */
const SECRET_VARIABLES = new Set(['API_KEYS', 'LLM_API_KEY', 'REDIS_URL']);

/** Names the value as it was written in the environment, not as converted (a NaN would read "null"). */
function describe(error: ValidationError, raw: string | undefined): string {
  const reasons = Object.values(error.constraints ?? {}).join('; ');
  const shown = SECRET_VARIABLES.has(error.property) ? '(hidden)' : JSON.stringify(raw);
  return `${error.property}=${shown}: ${reasons}`;
}
