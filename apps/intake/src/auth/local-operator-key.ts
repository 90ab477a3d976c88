import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createSecretFileOnce } from '@app/config';
import { ApiKey } from './api-key';

export const LOCAL_OPERATOR_NAME = 'local-operator';
export const LOCAL_KEY_FILE = 'api-key';

export interface LocalOperatorKey {
  key: ApiKey;
  /** True only on the start that generated it: the one time the caller should print it. */
  created: boolean;
  file: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * For a local run without API_KEYS: an operator key kept in `<dataDir>/api-key`, so the API is
 * never open and the key survives restarts. Only for a single machine: several instances behind
 * one load balancer need API_KEYS, or each would hold its own key.
 */
export function loadOrCreateLocalOperatorKey(dataDir: string): LocalOperatorKey {
  const file = join(dataDir, LOCAL_KEY_FILE);
  const { secret, created } = createSecretFileOnce(file, randomBytes(32).toString('base64url'), (existing) => {
    if (existing.length < 32 || !BASE64URL.test(existing)) {
      throw new Error(`${file} does not hold a valid API key; delete it to have a new one generated, or set API_KEYS`);
    }
  });
  return { key: { name: LOCAL_OPERATOR_NAME, secret, role: 'operator' }, created, file };
}
