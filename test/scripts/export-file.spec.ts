import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportFile, npmStdout } from '../../scripts/export-file';

describe('ExportFile, the file replay export writes', () => {
  let dir: string;
  let out: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'export-file-'));
    out = join(dir, 'backup.jsonl');
    await writeFile(out, 'the last backup\n');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('given a partial file an earlier run killed outright left under this pid, when an export opens, then it writes beside it and replaces the backup', async () => {
    // In a container every run may have the same pid (often 1): such a leftover made every later export fail.
    const leftover = `${out}.partial-${process.pid}`;
    await writeFile(leftover, 'half an export\n');

    const file = await ExportFile.open(out);
    file.stream.write('the new export\n');
    await file.commit();

    expect(await readFile(out, 'utf8')).toBe('the new export\n');
    expect((await readdir(dir)).sort()).toEqual(['backup.jsonl', `backup.jsonl.partial-${process.pid}`]);
  });

  it('given the export put in place, when it is interrupted before it ends, then the message says the backup was replaced, not kept', async () => {
    const file = await ExportFile.open(out);
    expect(file.leftBehind).toMatch(/the previous .*backup\.jsonl was left as it was$/);
    file.stream.write('the new export\n');
    await file.commit();

    file.discard();
    expect(file.leftBehind).toMatch(/backup\.jsonl had been replaced by the whole export already/);
    expect(await readFile(out, 'utf8')).toBe('the new export\n');
  });
});

describe('npmStdout, the stdout of the npm that ran replay', () => {
  let proc: string;
  /** A process of the fake /proc: its command line (arguments as given), its parent and, optionally, what its fd 1 is. */
  async function fakeProcess(pid: number, args: string[], ppid: number, comm = 'node', stdout?: string): Promise<void> {
    await mkdir(join(proc, String(pid), 'fd'), { recursive: true });
    await writeFile(join(proc, String(pid), 'cmdline'), `${args.join('\0')}\0`);
    await writeFile(join(proc, String(pid), 'stat'), `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560`);
    if (stdout !== undefined) await symlink(stdout, join(proc, String(pid), 'fd', '1'));
  }
  beforeEach(async () => {
    proc = await mkdtemp(join(tmpdir(), 'fake-proc-'));
    await writeFile(join(proc, 'terminal'), '');
  });
  afterEach(() => rm(proc, { recursive: true, force: true }));

  // A package script `replay export --out /dev/stdout | gzip > b.gz` was refused: npm's variables alone told replay it printed on its stdout.
  it('given replay started by sh -c, started by npm under the title it gives itself, then it is the file npm has as its stdout', async () => {
    await fakeProcess(30, ['sh', '-c', 'node dist/scripts/replay.js export --out /dev/stdout | gzip > b.gz'], 20, 'sh');
    // npm overwrites its arguments with its title, padded with NULs.
    await fakeProcess(20, ['npm run backup', '', '', ''], 10, 'npm run backup', join(proc, 'terminal'));
    await fakeProcess(10, ['bash'], 1, 'bash');

    expect(npmStdout(undefined, proc, 30)?.ino).toBe((await stat(join(proc, 'terminal'), { bigint: true })).ino);
  });

  it('given npm run as node npm-cli.js, or as npm_execpath names it, then it is found too', async () => {
    await fakeProcess(20, ['/usr/bin/node', '/usr/lib/node_modules/npm/bin/npm-cli.js', 'run', 'backup'], 1, 'node', join(proc, 'terminal'));
    await fakeProcess(21, ['/usr/bin/node', '/opt/npm/cli.mjs', 'run', 'backup'], 1, 'node', join(proc, 'terminal'));

    expect(npmStdout(undefined, proc, 20)).toBeDefined();
    expect(npmStdout(undefined, proc, 21)).toBeUndefined();
    expect(npmStdout('/opt/npm/cli.mjs', proc, 21)).toBeDefined();
  });

  it('given a process name with spaces and parentheses, then its parent is still read from its stat', async () => {
    await fakeProcess(30, ['node', 'replay.js'], 20, 'a) (b) S 99');
    await fakeProcess(20, ['npm'], 1, 'npm', join(proc, 'terminal'));

    expect(npmStdout(undefined, proc, 30)).toBeDefined();
  });

  // Where it cannot be told, replay refuses the export as npm might print into it.
  it.each([
    ['no npm among the ancestors (yarn)', async () => fakeProcess(20, ['node', '/usr/lib/node_modules/yarn/bin/yarn.js', 'run', 'backup'], 0, 'node')],
    ["npm's fds not readable (another user's)", async () => fakeProcess(20, ['npm run backup'], 0, 'npm run backup')],
    ['no /proc (not Linux)', async () => rm(proc, { recursive: true })],
  ])('given %s, then it is unknown', async (_, arrange) => {
    await arrange();

    expect(npmStdout(undefined, proc, 20)).toBeUndefined();
  });
});
