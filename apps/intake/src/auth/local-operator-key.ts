import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  const existing = readKeyFile(file);
  if (existing !== undefined) return { key: operatorKey(existing), created: false, file };

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  // Written aside and linked into place, so a second process starting at the same moment finds
  // either no file or the whole key, never a half-written one, and one of them wins.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = readKeyFile(file);
    if (winner === undefined) throw error;
    return { key: operatorKey(winner), created: false, file };
  } finally {
    unlinkSync(temp);
  }
  return { key: operatorKey(secret), created: true, file };
}

function operatorKey(secret: string): ApiKey {
  return { name: LOCAL_OPERATOR_NAME, secret, role: 'operator' };
}

function readKeyFile(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const secret = text.trim();
  if (secret.length < 32 || !BASE64URL.test(secret)) {
    throw new Error(`${file} does not hold a valid API key; delete it to have a new one generated, or set API_KEYS`);
  }
  // Someone may have copied the file with looser permissions; the key is an operator's.
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return secret;
}
