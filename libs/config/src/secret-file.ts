import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, linkSync, mkdirSync, openSync, readSync, Stats, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What chmod says when the file's mode is not this process's to change (a mounted secret, a read-only volume). */
const MODE_NOT_OURS = new Set(['EPERM', 'EROFS', 'EACCES']);

/** A key file holds one secret; anything larger is the wrong file, and /dev/zero would be read forever. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * A secret kept in a file (a key file, or one generated for a local run): its trimmed text, once
 * `validate` (which throws to refuse it) has passed it, or undefined when there is no file. Only a
 * regular file is read, and only a small one. A file others may read is narrowed to 0600 when this
 * process may do so, after the checks: a device given by mistake (/dev/null) stays as the host
 * needs it, and a refused file keeps its mode. A Kubernetes or Docker secret (read-only, its mode
 * set by the platform) is read as it is.
 */
export function readSecretFile(file: string, validate: (secret: string) => void): string | undefined {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Checked before opening: opening a FIFO waits for a writer, and a device is not a key.
  if (!stats.isFile()) throw new Error('not a regular file');
  const text = readAtMost(file, MAX_SECRET_FILE_BYTES).trim();
  validate(text);
  // Someone may have copied the file with looser permissions; it holds a secret.
  if (process.platform !== 'win32' && (stats.mode & 0o077) !== 0) {
    try {
      chmodSync(file, 0o600);
    } catch (error) {
      if (!MODE_NOT_OURS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }
  return text;
}

/** The file's text, refused past `limit` bytes as read, not as stat said: the file may grow in between. */
function readAtMost(file: string, limit: number): string {
  const buffer = Buffer.alloc(limit + 1);
  const fd = openSync(file, 'r');
  try {
    let length = 0;
    let read: number;
    while (length < buffer.length && (read = readSync(fd, buffer, length, buffer.length - length, null)) > 0) length += read;
    if (length > limit) throw new Error(`larger than ${limit} bytes; a key file holds one secret`);
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a new secret to `file` unless one is there, for a local run that generates its own:
 * written aside and linked into place, so processes starting at the same moment find either no
 * file or a whole one, never a half-written one, and one of them wins. The secret in the file,
 * and whether this call wrote it.
 */
export function createSecretFileOnce(file: string, secret: string, validate: (existing: string) => void): { secret: string; created: boolean } {
  const existing = readSecretFile(file, validate);
  if (existing !== undefined) return { secret: existing, created: false };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = readSecretFile(file, validate);
    if (winner === undefined) throw error;
    return { secret: winner, created: false };
  } finally {
    unlinkSync(temp);
  }
  return { secret, created: true };
}

/**
 * A master key file as its messages name it, by the variable (and place in its list) that gave it:
 * `DATA_KEY_PREVIOUS_FILES entry 2 ("/run/keys/old")`, the same at the services' start and in the tools.
 */
export function namedKeyFile(where: string, file: string): string {
  return `${where} (${JSON.stringify(file)})`;
}
