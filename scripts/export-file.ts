import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { BigIntStats, createWriteStream, fstatSync, fsync, lstatSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { isatty } from 'node:tty';
import { promisify } from 'node:util';

const STDOUT_FD = 1;
const STDERR_FD = 2;
/** How far up the process tree the npm that ran the command is looked for. */
const MAX_ANCESTORS = 32;

/**
 * Where `replay export --out` writes. A regular file (or a new one) is written beside itself, as
 * `<file>.partial-<pid>-<random>`, and renamed over it only once whole and on disk: the file it replaces is
 * most often the last backup, which an export that fails or is interrupted half way must not
 * have destroyed. A pipe or a device is written to directly: it keeps nothing. So is the process's
 * stdout (`/dev/stdout`, `/dev/fd/1`, or the very file a shell redirected it to), whatever it is:
 * a file behind it is the shell's (`> backup.jsonl`, keeping its mode), not one to replace; anything else
 * behind it (a pipe, a socket, a terminal) is written through Node's own process.stdout.
 */
export class ExportFile {
  private constructor(
    /** As given with --out. */
    readonly out: string,
    readonly stream: Writable,
    /** The file renamed over (the one a symlink names, so the link stays); undefined when written directly. */
    private readonly target: string | undefined,
    readonly partial: string | undefined,
    /** Whether a file was there to replace. */
    private readonly replacing: boolean,
    /**
     * Whether --out is the process's stdout: what the command says then goes to stderr, not into
     * the export, and the stream (fd 1 itself, or process.stdout) is never closed.
     */
    readonly toStdout = false,
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
      // Through fd 1 itself, at the offset the shell shares with it (of an empty file: see
      // exportTargetRefusal): opened again, the export would have an offset of its own, and what
      // the shell writes after it (`{ replay …; echo done; } > f`) would land over its start. Never
      // closed (autoClose, discard): the next file or socket opened would take over the number of
      // the process's stdout.
      return new ExportFile(out, createWriteStream(out, { fd: STDOUT_FD, autoClose: false }), undefined, undefined, false, true);
    }
    if (toStdout) {
      // Not opened anew: Linux cannot open a socket through /proc/self/fd/1 (ENXIO: a child Node
      // spawns with piped stdio, systemd's StandardOutput=journal), nor a pipe or terminal another
      // user owns (sudo -u). Nor written with fs calls on fd 1, which process.stdout has made
      // non-blocking (EAGAIN into a full pipe): process.stdout waits on it, and the export on 'drain'.
      return new ExportFile(out, process.stdout, undefined, undefined, false, true);
    }
    let file: ExportFile;
    if (existing && !existing.isFile()) {
      file = new ExportFile(out, createWriteStream(out, { mode: 0o600 }), undefined, undefined, false);
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
    if (this.stream === process.stdout) {
      // Never ended (the process's stdout stays open): an empty write calls back once all before it is written.
      await new Promise<void>((resolve, reject) => process.stdout.write('', (error) => (error ? reject(error) : resolve())));
      return;
    }
    this.stream.end();
    await once(this.stream, 'finish');
    // The file behind a redirected stdout holds the export as a renamed one would: on disk.
    if (this.toStdout) await promisify(fsync)(STDOUT_FD);
    if (this.target === undefined || this.partial === undefined) return;
    await syncToDisk(this.partial, 'r+');
    await rename(this.partial, this.target);
    this.renamed = true;
    // The rename itself is on disk only once its directory is.
    await syncToDisk(dirname(this.target), 'r');
  }

  /** Drops what was written (synchronous: it also runs from a signal handler, right before the process ends). */
  discard(): void {
    if (!this.toStdout) this.stream.destroy();
    if (this.partial !== undefined) rmSync(this.partial, { force: true });
  }
}

/**
 * Why an export to `out` would not leave the export alone where it goes, when `out` is the
 * process's stdout or stderr (else undefined), for the command to refuse it before it writes
 * anything; `env`: the process's environment.
 */
export function exportTargetRefusal(out: string, env: NodeJS.ProcessEnv): string | undefined {
  const target = statSync(out, { bigint: true, throwIfNoEntry: false });
  if (target === undefined) return undefined;
  if (!isStdout(target)) {
    // `--out /dev/stderr`, or the file `2>` sent stderr to: the progress, the summary and any error
    // would land in the export, and a file behind it would be renamed over, the shell's file
    // replaced and the process's stderr left writing to the one replaced. `2>/dev/null` with
    // `--out /dev/null` asks for nothing to be kept.
    if (isOpenAs(target, STDERR_FD) && !isNullDevice(target)) {
      return 'it is stderr, where the command writes its progress, summary and any error: use --out <file>, or --out /dev/stdout and send 2> elsewhere';
    }
    return undefined;
  }
  // Node opens a closed stdout (`>&-`) on /dev/null: the export would vanish and be said done.
  // `--out /dev/null` itself asks for that.
  if (isNullDevice(target) && !isNullDevice(lstatSync(out, { bigint: true }))) {
    return 'stdout is /dev/null: the export would be discarded (a stdout closed with >&- is /dev/null too)';
  }
  // A terminal keeps nothing: what else reaches it spoils no export.
  if (isatty(STDOUT_FD)) return undefined;
  // `npm run` (and `npm test`, `npm start`) prints `> brain-mission-system@0.1.0 replay` and the
  // script on its own stdout, unless silent (-s: npm_config_loglevel=silent); npm exec (npx) prints
  // nothing. Its variables reach every process the script starts, also one whose stdout the script
  // sent elsewhere (`node dist/scripts/replay.js export --out /dev/stdout | gzip > b.gz`), which
  // that header does not reach.
  const npmScript = env.npm_lifecycle_event;
  if (npmScript !== undefined && env.npm_command !== 'exec' && env.npm_config_loglevel !== 'silent' && npmPrintsOnStdout(env)) {
    return `npm without -s prints its own "> …" lines on stdout ahead of the export: run npm run -s ${npmScript} -- … (or node dist/scripts/replay.js …)`;
  }
  // `> backup.jsonl 2>&1`, cron's idiom: "Exported …", or the error of a failed export, would follow the export's lines.
  if (isOpenAs(target, STDERR_FD)) return 'stderr is the same file as stdout, so the summary and any error would land in the export: send 2> elsewhere';
  // `>> app.log` onto what the file held, `1<>` over it, `{ echo header; replay …; } > f`: the file
  // would hold more than the export, which import then refuses (lines added), while the export
  // said it was made. `>` truncates the file first.
  if (target.isFile() && target.size > 0n) {
    const held = `${target.size} byte${target.size === 1n ? '' : 's'}`;
    return `stdout is a file that already holds ${held}: the export added to them would not import; write to an empty file (>) or use --out <file>`;
  }
  return undefined;
}

/**
 * Whether the npm that ran this process's script prints on the process's stdout: its own stdout
 * is the same file. Taken to when that cannot be told (see npmStdout).
 */
function npmPrintsOnStdout(env: NodeJS.ProcessEnv): boolean {
  const npm = npmStdout(env.npm_execpath);
  return npm === undefined || isStdout(npm);
}

/**
 * The stdout of the npm that ran this process (the nearest ancestor that is npm), as `proc` (Linux'
 * /proc) shows it, from the process `pid` (this one's parent) up; undefined when it cannot be told:
 * no /proc (not Linux), no npm among the ancestors (yarn, pnpm), its fds not readable (another
 * user's). `execPath`: npm_execpath, the npm-cli.js that npm runs as.
 */
export function npmStdout(execPath: string | undefined, proc = '/proc', pid = process.ppid): BigIntStats | undefined {
  // Down to pid 1 itself: npm is often that in a container (CMD ["npm", "start"]).
  for (let depth = 0; pid > 0 && depth < MAX_ANCESTORS; depth++) {
    try {
      if (isNpm(readFileSync(`${proc}/${pid}/cmdline`, 'utf8'), execPath)) return statSync(`${proc}/${pid}/fd/1`, { bigint: true });
      const stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
      // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so fields are counted from its last `)`.
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Whether a /proc cmdline (arguments NUL-separated) is npm's: `node /…/npm-cli.js run …`, or the title npm gives itself, `npm run …`. */
function isNpm(cmdline: string, execPath: string | undefined): boolean {
  const words = cmdline.split(/[\0 ]/).filter(Boolean).slice(0, 2);
  return words.some((word) => word === execPath || basename(word) === 'npm' || basename(word) === 'npm-cli.js');
}

function isNullDevice(file: BigIntStats): boolean {
  return file.isCharacterDevice() && file.rdev === statSync('/dev/null', { bigint: true }).rdev;
}

/** Whether `file` is what the process's stdout is. */
function isStdout(file: BigIntStats): boolean {
  return isOpenAs(file, STDOUT_FD);
}

/** Whether `file` is what the process's `fd` is (a closed one: nothing is). */
function isOpenAs(file: BigIntStats, fd: number): boolean {
  try {
    const opened = fstatSync(fd, { bigint: true });
    return opened.dev === file.dev && opened.ino === file.ino;
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
