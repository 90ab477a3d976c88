import { ConfigError } from '@app/config';
import { ApiKey, parseApiKeys } from './api-key';
import { loadOrCreateLocalOperatorKey, LocalOperatorKey } from './local-operator-key';

export interface ResolvedApiKeys {
  keys: ApiKey[];
  /** Set when API_KEYS was empty and the local operator key stands in for it. */
  local?: LocalOperatorKey;
}

/** API_KEYS when it names any key; otherwise the local operator key, so the API is never left open. */
export function resolveApiKeys(spec: string | undefined, dataDir: string): ResolvedApiKeys {
  const keys = apiKeysOrConfigError(spec ?? '');
  if (keys.length > 0) return { keys };
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
