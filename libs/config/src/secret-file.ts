import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What chmod says when the file's mode is not this process's to change (a mounted secret, a read-only volume). */
const MODE_NOT_OURS = new Set(['EPERM', 'EROFS', 'EACCES']);

/**
 * A secret kept in a file (a key file, or one generated for a local run): its trimmed text, or
 * undefined when there is no file. A file others may read is narrowed to 0600 when this process
 * may do so; a Kubernetes or Docker secret (read-only, its mode set by the platform) is read as it is.
 */
export function readSecretFile(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Someone may have copied the file with looser permissions; it holds a secret.
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    try {
      chmodSync(file, 0o600);
    } catch (error) {
      if (!MODE_NOT_OURS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }
  return text.trim();
}

/**
 * Writes a new secret to `file` unless one is there, for a local run that generates its own:
 * written aside and linked into place, so processes starting at the same moment find either no
 * file or a whole one, never a half-written one, and one of them wins. The secret in the file,
 * and whether this call wrote it.
 */
export function createSecretFileOnce(file: string, secret: string, validate: (existing: string) => void): { secret: string; created: boolean } {
  const existing = readSecretFile(file);
  if (existing !== undefined) {
    validate(existing);
    return { secret: existing, created: false };
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = readSecretFile(file);
    if (winner === undefined) throw error;
    validate(winner);
    return { secret: winner, created: false };
  } finally {
    unlinkSync(temp);
  }
  return { secret, created: true };
}
