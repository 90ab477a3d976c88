import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_SECRET_FILE_BYTES, readSecretFile } from './secret-file';

const accept = (): void => undefined;

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
    expect(readSecretFile(file, accept)).toBe('a-master-key-of-at-least-32-characters');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  // A Kubernetes secret volume (read-only, 0644) or a Docker secret (root's, 0444) used to stop every service at start.
  it.each(['EROFS', 'EPERM', 'EACCES'])('given a file whose mode this process may not change (%s), then it is read as it is', (code) => {
    chmodFailsWith(code);
    expect(readSecretFile(file, accept)).toBe('a-master-key-of-at-least-32-characters');
  });

  it('given another chmod failure, then it is not hidden', () => {
    chmodFailsWith('EIO');
    expect(() => readSecretFile(file, accept)).toThrow('EIO');
  });

  it('given no file, then undefined', () => {
    expect(readSecretFile(join(dir, 'missing'), accept)).toBeUndefined();
  });

  // A device given by mistake was made 0600 for the whole host (/dev/null), or read forever (/dev/zero).
  it('given a directory or a FIFO, then it is refused as not a regular file before it is opened or its mode changed', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', ['-m', '644', fifo]);
    const chmod = jest.spyOn(fs, 'chmodSync');
    expect(() => readSecretFile(dir, accept)).toThrow(/^not a regular file$/);
    expect(() => readSecretFile(fifo, accept)).toThrow(/^not a regular file$/);
    expect(chmod).not.toHaveBeenCalled();
    expect(fs.statSync(fifo).mode & 0o777).toBe(0o644);
  });

  it('given a file larger than a key file, then it is refused and its mode is kept', () => {
    fs.writeFileSync(file, 'x'.repeat(MAX_SECRET_FILE_BYTES + 1));
    expect(() => readSecretFile(file, accept)).toThrow(`larger than ${MAX_SECRET_FILE_BYTES} bytes`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
  });

  it('given a file the validation refuses, then its error stands and the mode is kept', () => {
    expect(() =>
      readSecretFile(file, () => {
        throw new Error('too short');
      }),
    ).toThrow('too short');
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
  });
});
