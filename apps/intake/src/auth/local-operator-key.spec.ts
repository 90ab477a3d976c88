import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { loadOrCreateLocalOperatorKey } from './local-operator-key';
import { resolveApiKeys } from './resolve-api-keys';

describe('loadOrCreateLocalOperatorKey', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brain-api-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('given no key file, then it creates an operator key in a 0600 file and says it created it', () => {
    const dataDir = join(dir, 'nested', '.data');
    const first = loadOrCreateLocalOperatorKey(dataDir);
    expect(first.created).toBe(true);
    expect(first.file).toBe(join(dataDir, 'api-key'));
    expect(first.key.role).toBe('operator');
    expect(first.key.secret).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(readFileSync(first.file, 'utf8').trim()).toBe(first.key.secret);
    if (process.platform !== 'win32') expect(statSync(first.file).mode & 0o777).toBe(0o600);
  });

  it('given a key file from an earlier start, then it reuses that key and does not claim to have created it', () => {
    const first = loadOrCreateLocalOperatorKey(dir);
    const second = loadOrCreateLocalOperatorKey(dir);
    expect(second.created).toBe(false);
    expect(second.key).toEqual(first.key);
  });

  it('given a key file readable by others, then it tightens it to 0600', () => {
    if (process.platform === 'win32') return;
    const first = loadOrCreateLocalOperatorKey(dir);
    chmodSync(first.file, 0o644);
    loadOrCreateLocalOperatorKey(dir);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
  });

  it('given a damaged key file, then it refuses rather than opening the API or replacing the key', () => {
    writeFileSync(join(dir, 'api-key'), 'short\n', { mode: 0o600 });
    expect(() => loadOrCreateLocalOperatorKey(dir)).toThrow(/does not hold a valid API key/);
  });

  it('given API_KEYS, then resolveApiKeys uses them and writes no file; given none, then the local key', () => {
    const configured = resolveApiKeys('ops:0123456789abcdef:operator', dir);
    expect(configured).toEqual({ keys: [{ name: 'ops', secret: '0123456789abcdef', role: 'operator' }] });
    expect(() => statSync(join(dir, 'api-key'))).toThrow();
    const local = resolveApiKeys(undefined, dir);
    expect(local.local?.created).toBe(true);
    expect(local.keys).toEqual([local.local?.key]);
  });

  // Compose's ${API_KEYS:?} passes these, and the fallback printed a new operator secret into the log.
  it.each([' ', ',', ' , ,'])('given API_KEYS set to blanks and commas only (%j), then a config error naming it, and no key file', (spec) => {
    expect(() => resolveApiKeys(spec, dir)).toThrow(ConfigError);
    expect(() => resolveApiKeys(spec, dir)).toThrow(/^invalid configuration:\n {2}- API_KEYS is set but names no key/);
    expect(() => statSync(join(dir, 'api-key'))).toThrow();
  });

  it('given API_KEYS empty, then the local key, as when it is unset', () => {
    expect(resolveApiKeys('', dir).local?.created).toBe(true);
  });
});
