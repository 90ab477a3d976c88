import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { BigIntStats, createWriteStream, fstatSync, fsync, realpathSync, rmSync, statSync, WriteStream } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';

const STDOUT_FD = 1;

/**
 * Where `replay export --out` writes. A regular file (or a new one) is written beside itself, as
 * `<file>.partial-<pid>-<random>`, and renamed over it only once whole and on disk: the file it replaces is
 * most often the last backup, which an export that fails or is interrupted half way must not
 * have destroyed. A pipe or a device is written to directly: it keeps nothing. So is the process's
 * stdout (`/dev/stdout`, `/dev/fd/1`, or the very file a shell redirected it to), whatever it is:
 * a file behind it is the shell's (`>> app.log` appends to it), not one to replace.
 */
export class ExportFile {
  private constructor(
    /** As given with --out. */
    readonly out: string,
    readonly stream: WriteStream,
    /** The file renamed over (the one a symlink names, so the link stays); undefined when written directly. */
    private readonly target: string | undefined,
    readonly partial: string | undefined,
    /** Whether a file was there to replace. */
    private readonly replacing: boolean,
    /** Whether --out is the process's stdout: what the command says then goes to stderr, not into the export. */
    readonly toStdout = false,
    /** Whether the stream writes fd 1 itself (stdout redirected to a file), which is never closed. */
    private readonly throughFd1 = false,
  ) {}

  /** Whether the whole export is already in place of --out (renamed), whatever failed after. */
  private renamed = false;

  /**
   * Opened for writing, readable by its owner only (it holds the log's plain fields and the wrapped
   * data keys), but for a file behind stdout, which keeps the mode its shell gave it; rejects when it cannot be.
   */
  static async open(out: string): Promise<ExportFile> {
    const existing = statSync(out, { bigint: true, throwIfNoEntry: false });
    const toStdout = existing !== undefined && isStdout(existing);
    if (toStdout && existing.isFile()) {
      // Through fd 1 itself, at the offset the shell shares with it (appended to after `>>`, and
      // written on from after `{ echo header; replay …; echo footer; } > f`): opening the file again
      // would truncate it, or write from its start. Never closed (autoClose, discard): the next file
      // or socket opened would take over the number of the process's stdout.
      return new ExportFile(out, createWriteStream(out, { fd: STDOUT_FD, autoClose: false }), undefined, undefined, false, true, true);
    }
    let file: ExportFile;
    if (existing && !existing.isFile()) {
      // Opened anew, also the pipe or terminal of stdout: Node's own process.stdout has made fd 1
      // non-blocking, where a plain write into a full pipe fails with EAGAIN instead of waiting.
      file = new ExportFile(out, createWriteStream(out, { mode: 0o600 }), undefined, undefined, false, toStdout);
    } else {
      const target = existing ? realpathSync(out) : out;
      // The random part: in a container every run may have the same pid, and a partial file left by
      // a run killed outright (SIGKILL, OOM) must not make every later export fail on `wx`.
      const partial = `${target}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
      // `wx`: never through a link or over a file someone else left under that name.
      file = new ExportFile(out, createWriteStream(partial, { flags: 'wx', mode: 0o600 }), target, partial, existing !== undefined);
    }
    await once(file.stream, 'open').catch((error: NodeJS.ErrnoException) => {
      throw new Error(openFailure(out, error));
    });
    return file;
  }

  /** What a failed or interrupted export leaves at --out, for the message that says it failed. */
  get leftBehind(): string {
    if (this.target === undefined) return `what ${this.out} got has no end line (an export cut short)`;
    if (this.renamed) return `${this.out} had been replaced by the whole export already (check it holds its end line)`;
    return this.replacing ? `the previous ${this.out} was left as it was` : `no ${this.out} was written`;
  }

  /** Ends the file, flushes it to disk, and puts it in place of --out: the export is whole. */
  async commit(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
    // The file behind a redirected stdout holds the export as a renamed one would: on disk.
    if (this.throughFd1) await promisify(fsync)(STDOUT_FD);
    if (this.target === undefined || this.partial === undefined) return;
    await syncToDisk(this.partial, 'r+');
    await rename(this.partial, this.target);
    this.renamed = true;
    // The rename itself is on disk only once its directory is.
    await syncToDisk(dirname(this.target), 'r');
  }

  /** Drops what was written (synchronous: it also runs from a signal handler, right before the process ends). */
  discard(): void {
    if (!this.throughFd1) this.stream.destroy();
    if (this.partial !== undefined) rmSync(this.partial, { force: true });
  }
}

/** Whether `file` is what the process's stdout is (fd 1 closed: nothing is). */
function isStdout(file: BigIntStats): boolean {
  try {
    const stdout = fstatSync(STDOUT_FD, { bigint: true });
    return stdout.dev === file.dev && stdout.ino === file.ino;
  } catch {
    return false;
  }
}

async function syncToDisk(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Why --out could not be opened, naming --out: the file opened is a partial one beside it
 * (`<out>.partial-<pid>-<random>`), whose name in the system's message only puzzles.
 */
function openFailure(out: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return `its directory ${dirname(resolve(out))} does not exist`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to create a file in ${dirname(resolve(out))}`;
    case 'ENOTDIR':
      return `a part of its path is not a directory`;
    default:
      return error.code ?? error.message;
  }
}
