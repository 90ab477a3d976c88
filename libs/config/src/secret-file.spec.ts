import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSecretFile } from './secret-file';

describe('readSecretFile', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'secret-file-'));
    file = join(dir, 'data-key');
    fs.writeFileSync(file, 'a-master-key-of-at-least-32-characters\n');
    fs.chmodSync(file, 0o644);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  /** chmod as a mounted secret answers it (tests run as root, who may change any mode). */
  const chmodFailsWith = (code: string) =>
    jest.spyOn(fs, 'chmodSync').mockImplementation(() => {
      throw Object.assign(new Error(`${code}: chmod '${file}'`), { code });
    });

  it('given a file others may read, then it is narrowed to 0600 and read', () => {
    expect(readSecretFile(file)).toBe('a-master-key-of-at-least-32-characters');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  // A Kubernetes secret volume (read-only, 0644) or a Docker secret (root's, 0444) used to stop every service at start.
  it.each(['EROFS', 'EPERM', 'EACCES'])('given a file whose mode this process may not change (%s), then it is read as it is', (code) => {
    chmodFailsWith(code);
    expect(readSecretFile(file)).toBe('a-master-key-of-at-least-32-characters');
  });

  it('given another chmod failure, then it is not hidden', () => {
    chmodFailsWith('EIO');
    expect(() => readSecretFile(file)).toThrow('EIO');
  });

  it('given no file, then undefined', () => {
    expect(readSecretFile(join(dir, 'missing'))).toBeUndefined();
  });
});
