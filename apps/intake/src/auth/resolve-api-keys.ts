import { ApiKey, parseApiKeys } from './api-key';
import { loadOrCreateLocalOperatorKey, LocalOperatorKey } from './local-operator-key';

export interface ResolvedApiKeys {
  keys: ApiKey[];
  /** Set when API_KEYS was empty and the local operator key stands in for it. */
  local?: LocalOperatorKey;
}

/** API_KEYS when it names any key; otherwise the local operator key, so the API is never left open. */
export function resolveApiKeys(spec: string | undefined, dataDir: string): ResolvedApiKeys {
  const keys = parseApiKeys(spec ?? '');
  if (keys.length > 0) return { keys };
  const local = loadOrCreateLocalOperatorKey(dataDir);
  return { keys: [local.key], local };
}
