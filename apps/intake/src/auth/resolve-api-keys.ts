import { ConfigError } from '@app/config';
import { ApiKey, parseApiKeys } from './api-key';
import { loadOrCreateLocalOperatorKey, LocalOperatorKey } from './local-operator-key';

export interface ResolvedApiKeys {
  keys: ApiKey[];
  /** Set when API_KEYS was empty and the local operator key stands in for it. */
  local?: LocalOperatorKey;
}

/**
 * API_KEYS when it names any key; unset or empty, the local operator key, so the API is never left
 * open. Set to blanks and commas only (`" "`, `","`, a template `"${OPS},"` whose variable was
 * empty) it is refused: compose's `${API_KEYS:?}` lets such a value through, and the fallback
 * would print a new operator secret into the container's log.
 */
export function resolveApiKeys(spec: string | undefined, dataDir: string): ResolvedApiKeys {
  const keys = apiKeysOrConfigError(spec ?? '');
  if (keys.length > 0) return { keys };
  if (spec) {
    throw new ConfigError([
      'API_KEYS is set but names no key (only blanks and commas): give name:secret:role entries, or leave it unset for a local operator key',
    ]);
  }
  const local = loadOrCreateLocalOperatorKey(dataDir);
  return { keys: [local.key], local };
}

/** A malformed entry is a configuration error: the intake stops with its message and exit 78. */
function apiKeysOrConfigError(spec: string): ApiKey[] {
  try {
    return parseApiKeys(spec);
  } catch (error) {
    throw new ConfigError([error instanceof Error ? error.message : String(error)]);
  }
}
