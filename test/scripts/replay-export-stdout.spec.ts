import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { KeyLayout } from '@app/event-store';
import { buildKnownLog, deleteKeysByPrefix, KNOWN_EVENT_COUNT, redisUrl, TEST_DATA_KEY_SECRET, testKeyPrefix, testRedis } from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_WRITE } from '../../scripts/replay';
import { startNpmReplayInShell, startNpmScriptInShell, startReplay, startReplayInShell } from '../support/replay-process';

/**
 * `replay export --out /dev/stdout` into a pipe and into a file the shell redirected stdout to:
 * from dist/ (built here when stale), run by bash, since the process' own stdout is the point.
 */
const ROOT = path.resolve(__dirname, '..', '..');

describe('replay export to its stdout (dist, real Redis)', () => {
  const redis = testRedis();
  const source = testKeyPrefix('replay-export-stdout');
  let dir: string;
  /** The export of `source` written to a file of its own, as a backup is. */
  let reference: string;
  let restores = 0;

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    REDIS_URL: redisUrl(),
    REDIS_CLUSTER_NODES: '',
    KEY_PREFIX: source,
    LOG_PARTITIONS: '',
    DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
    ...extra,
  });

  /** Imports `file` under a fresh prefix beside `source` and exports that again: what the file restores. */
  async function restored(file: string): Promise<string> {
    const target = `${source}restore-${++restores}:`;
    expect(await startReplay(['--prefix', target, 'import', '--in', file], env()).exited).toMatchObject({ code: EXIT_OK });
    expect(await startReplay(['--prefix', target, 'verify'], env()).exited).toMatchObject({ code: EXIT_OK });
    const again = path.join(dir, `restored-${restores}.jsonl`);
    expect(await startReplay(['--prefix', target, 'export', '--out', again], env()).exited).toMatchObject({ code: EXIT_OK });
    return readFile(again, 'utf8');
  }

  beforeAll(async () => {
    expect(ensureBuilt(ROOT)).toBe(0);
    await buildKnownLog(redis, new KeyLayout(source));
    dir = await mkdtemp(path.join(tmpdir(), 'replay-export-stdout-'));
    const file = path.join(dir, 'reference.jsonl');
    expect(await startReplay(['export', '--out', file], env()).exited).toMatchObject({ code: EXIT_OK, stderr: '' });
    reference = await readFile(file, 'utf8');
  }, 180_000);

  afterAll(async () => {
    // The restores are under `source`, e.g. test:replay-export-stdout:1a2b3c4d:restore-1:.
    await deleteKeysByPrefix(redis, source);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  // "Exported …" followed the end line into the pipe: the backup gzip kept was refused by import (exit 5, "line 36 is not a JSON object").
  it('given export --out /dev/stdout piped into another process, then the pipe gets exactly the export, which restores, and the summary is on stderr', async () => {
    const piped = path.join(dir, 'piped.jsonl');
    const run = await startReplayInShell(['export', '--out', '/dev/stdout'], '| cat > "$EXPORT_FILE"', env({ EXPORT_FILE: piped })).exited;

    expect(await readFile(piped, 'utf8')).toBe(reference);
    expect(run).toEqual({ code: EXIT_OK, signal: null, stdout: '', stderr: `Exported ${KNOWN_EVENT_COUNT} of ${KNOWN_EVENT_COUNT} events to /dev/stdout.\n` });
    expect(await restored(piped)).toBe(reference);
  });

  // Exit 0 and `Exported … to -.`, written to a new file named `-` in the working directory, and nothing to the pipe.
  it('given export --out - piped into another process, then the pipe gets exactly the export, as with /dev/stdout, and no file named - is written', async () => {
    const piped = path.join(dir, 'dash.jsonl');
    const dash = path.join(ROOT, '-');
    try {
      const run = await startReplayInShell(['export', '--out', '-'], '| cat > "$EXPORT_FILE"', env({ EXPORT_FILE: piped })).exited;

      expect(await readFile(piped, 'utf8')).toBe(reference);
      expect(run).toEqual({
        code: EXIT_OK,
        signal: null,
        stdout: '',
        stderr: `Exported ${KNOWN_EVENT_COUNT} of ${KNOWN_EVENT_COUNT} events to /dev/stdout.\n`,
      });
      expect(existsSync(dash)).toBe(false);
    } finally {
      await rm(dash, { force: true });
    }
  });

  // Nothing was written, exit 2: `cannot write /dev/stdout: ENXIO`, since Linux cannot open a socket through /proc/self/fd/1.
  it('given export --out /dev/stdout spawned by node with piped stdio (a socket, as systemd gives the journal), then the socket gets exactly the export, which restores', async () => {
    const run = await startReplay(['export', '--out', '/dev/stdout'], env()).exited;

    expect(run).toEqual({
      code: EXIT_OK,
      signal: null,
      stdout: reference,
      stderr: `Exported ${KNOWN_EVENT_COUNT} of ${KNOWN_EVENT_COUNT} events to /dev/stdout.\n`,
    });
    const received = path.join(dir, 'socket.jsonl');
    await writeFile(received, run.stdout);
    expect(await restored(received)).toBe(reference);
  });

  // Written through process.stdout (any stdout but a file), a write failure must stay the export's own: exit 7, not an unhandled 'error' (exit 1).
  it('given export --out /dev/stdout into /dev/full, then it fails with exit 7 naming ENOSPC', async () => {
    const run = await startReplayInShell(['export', '--out', '/dev/stdout'], '> /dev/full', env()).exited;

    expect(run).toEqual({
      code: EXIT_WRITE,
      signal: null,
      stdout: '',
      stderr: 'replay: cannot write /dev/stdout: ENOSPC: no space left on device, write; what /dev/stdout got has no end line (an export cut short)\n',
    });
  });

  // The file behind the redirect was replaced by a new one of mode 0600 holding the export alone.
  it.each([
    ['/dev/stdout', '>', 'a line written before\n'],
    ['app.log', '>', 'a line written before\n'],
    ['/dev/stdout', '>>', ''],
  ])(
    'given export --out %s into app.log of the shell (%s, app.log holding %j), then app.log holds the export alone, keeps its mode and is not replaced',
    async (out, redirect, before) => {
      const log = path.join(dir, 'app.log');
      await writeFile(log, before);
      await chmod(log, 0o644);
      const { ino } = await stat(log);
      const run = await startReplayInShell(['export', '--out', out === 'app.log' ? log : out], `${redirect} "$EXPORT_FILE"`, env({ EXPORT_FILE: log })).exited;

      expect(run).toMatchObject({ code: EXIT_OK, stdout: '', stderr: expect.stringMatching(/^Exported \d+ of \d+ events to .+\.\n$/) });
      expect(await readFile(log, 'utf8')).toBe(reference);
      const after = await stat(log);
      expect({ ino: after.ino, mode: after.mode & 0o777 }).toEqual({ ino, mode: 0o644 });
      expect((await readdir(dir)).filter((name) => name.startsWith('app.log'))).toEqual(['app.log']);
      await rm(log);
    },
  );

  // Exit 0 and "Exported …": `>>` left the export after what the file held, `1<>` over its start; import refused either (exit 5).
  it.each([
    ['/dev/stdout', '>>'],
    ['app.log', '>>'],
    ['/dev/stdout', '1<>'],
  ])(
    'given export --out %s into app.log of the shell (%s) that is not empty, then it is refused with exit 2 and app.log is left as it was',
    async (out, redirect) => {
      const log = path.join(dir, 'app.log');
      await writeFile(log, 'a line written before\n');
      const named = out === 'app.log' ? log : out;
      const run = await startReplayInShell(['export', '--out', named], `${redirect} "$EXPORT_FILE"`, env({ EXPORT_FILE: log })).exited;

      expect(run).toEqual({
        code: EXIT_USAGE,
        signal: null,
        stdout: '',
        stderr:
          `replay: cannot export to ${named}: stdout is a file that already holds 22 bytes: the export added to them would not import; ` +
          'write to an empty file (>) or use --out <file>\n',
      });
      expect(await readFile(log, 'utf8')).toBe('a line written before\n');
      await rm(log);
    },
  );

  // Exit 0, and "Exported … to /dev/stdout." was the file's last line: import refused it (exit 5).
  it.each([
    ['file (> f 2>&1)', '> "$EXPORT_FILE" 2>&1'],
    ['pipe (2>&1 | cat > f)', '2>&1 | cat > "$EXPORT_FILE"'],
  ])(
    'given export --out /dev/stdout with stderr sent to the same %s, then it is refused with exit 2 before it writes any of the export',
    async (_, redirect) => {
      const mixed = path.join(dir, 'mixed.jsonl');
      const run = await startReplayInShell(['export', '--out', '/dev/stdout'], redirect, env({ EXPORT_FILE: mixed })).exited;

      expect(run).toEqual({ code: EXIT_USAGE, signal: null, stdout: '', stderr: '' });
      expect(await readFile(mixed, 'utf8')).toBe(
        'replay: cannot export to /dev/stdout: stderr is the same file as stdout, so the summary and any error would land in the export: send 2> elsewhere\n',
      );
      await rm(mixed);
    },
  );

  // Exit 0: the export was renamed over the shell's file, and "Exported …" went to the file it replaced.
  it('given export --out /dev/stderr with stderr sent to a file, then it is refused with exit 2 and the file holds only why', async () => {
    const log = path.join(dir, 'errors.log');
    const run = await startReplayInShell(['export', '--out', '/dev/stderr'], '2> "$EXPORT_FILE"', env({ EXPORT_FILE: log })).exited;

    expect(run).toEqual({ code: EXIT_USAGE, signal: null, stdout: '', stderr: '' });
    expect(await readFile(log, 'utf8')).toBe(
      'replay: cannot export to /dev/stderr: it is stderr, where the command writes its progress, summary and any error: ' +
        'use --out <file>, or --out /dev/stdout and send 2> elsewhere\n',
    );
    await rm(log);
  });

  // Exit 0, and npm's `> brain-mission-system@0.1.0 replay` lines came first in the pipe: import refused the backup (exit 5).
  it("given npm run replay without -s exporting to /dev/stdout, then it is refused with exit 2 and only npm's own lines reach the pipe", async () => {
    const piped = path.join(dir, 'npm.jsonl');
    const run = await startNpmReplayInShell([], ['export', '--out', '/dev/stdout'], '| cat > "$EXPORT_FILE"', env({ EXPORT_FILE: piped })).exited;

    expect(run).toMatchObject({ code: EXIT_USAGE, stdout: '' });
    expect(run.stderr).toContain(
      'replay: cannot export to /dev/stdout: npm without -s prints its own "> …" lines on stdout ahead of the export: ' +
        'run npm run -s replay -- … (or node dist/scripts/replay.js …)\n',
    );
    const lines = (await readFile(piped, 'utf8')).split('\n');
    expect(lines).toContain('> brain-mission-system@0.1.0 replay');
    expect(lines.filter((line) => line !== '' && !line.startsWith('> '))).toEqual([]);
  });

  // Refused with exit 2 ("npm without -s prints its own "> …" lines on stdout"), though npm's header went to npm's own stdout, not into the pipe.
  it("given a package script that pipes replay export --out /dev/stdout into gzip, run by npm run without -s, then the pipe gets exactly the export and npm's header its own stdout", async () => {
    const host = path.join(dir, 'backup-host');
    await mkdir(host);
    const script = '"$REPLAY_NODE" "$REPLAY_ROOT/dist/scripts/replay.js" export --out /dev/stdout | gzip > "$EXPORT_FILE"';
    await writeFile(path.join(host, 'package.json'), JSON.stringify({ name: 'backup-host', version: '1.0.0', scripts: { backup: script } }));
    const gzipped = path.join(dir, 'npm-backup.jsonl.gz');

    const run = await startNpmScriptInShell(host, 'backup', env({ EXPORT_FILE: gzipped })).exited;

    expect(run).toMatchObject({ code: EXIT_OK, stderr: `Exported ${KNOWN_EVENT_COUNT} of ${KNOWN_EVENT_COUNT} events to /dev/stdout.\n` });
    expect(run.stdout.split('\n')).toContain('> backup-host@1.0.0 backup');
    expect(gunzipSync(await readFile(gzipped)).toString('utf8')).toBe(reference);
  });

  it('given npm run -s replay exporting to /dev/stdout, then the pipe gets exactly the export', async () => {
    const piped = path.join(dir, 'npm-silent.jsonl');
    const run = await startNpmReplayInShell(['-s'], ['export', '--out', '/dev/stdout'], '| cat > "$EXPORT_FILE"', env({ EXPORT_FILE: piped })).exited;

    expect(run).toEqual({ code: EXIT_OK, signal: null, stdout: '', stderr: `Exported ${KNOWN_EVENT_COUNT} of ${KNOWN_EVENT_COUNT} events to /dev/stdout.\n` });
    expect(await readFile(piped, 'utf8')).toBe(reference);
  });

  // Exit 0 and `Exported 34 of 34 events to /dev/stdout.`: Node had opened the closed stdout on /dev/null, and the export went there.
  it.each([
    ['closed (>&-)', '>&-'],
    ['sent to /dev/null', '> /dev/null'],
  ])('given export --out /dev/stdout with stdout %s, then it is refused with exit 2', async (_, redirect) => {
    const run = await startReplayInShell(['export', '--out', '/dev/stdout'], redirect, env()).exited;

    expect(run).toEqual({
      code: EXIT_USAGE,
      signal: null,
      stdout: '',
      stderr: 'replay: cannot export to /dev/stdout: stdout is /dev/null: the export would be discarded (a stdout closed with >&- is /dev/null too)\n',
    });
  });

  it('given export --out /dev/null with stdout sent there too, then it exports as asked', async () => {
    const run = await startReplayInShell(['export', '--out', '/dev/null'], '> /dev/null', env()).exited;

    expect(run).toEqual({ code: EXIT_OK, signal: null, stdout: '', stderr: `Exported ${KNOWN_EVENT_COUNT} of ${KNOWN_EVENT_COUNT} events to /dev/null.\n` });
  });

  // Refused as corruption, `line 12 is not a JSON object`, where the file was only cut short.
  it('given what stdout got of an export cut short within a line (| head -c), then import refuses it as cut short, naming the line, with exit 5', async () => {
    // Half way through the reference's 12th line.
    const lines = reference.split('\n');
    const cutBytes = Buffer.byteLength(lines.slice(0, 11).join('\n')) + 1 + Math.floor(lines[11].length / 2);
    const cut = path.join(dir, 'cut.jsonl');
    // The rest read and dropped: the export ends whole whatever the timing (a reader gone before its end fails it, exit 7).
    const run = await startReplayInShell(
      ['export', '--out', '/dev/stdout'],
      '| { head -c "$CUT_BYTES" > "$EXPORT_FILE"; cat > /dev/null; }',
      env({ EXPORT_FILE: cut, CUT_BYTES: String(cutBytes) }),
    ).exited;
    expect(run.code).toBe(EXIT_OK);
    expect((await readFile(cut, 'utf8')).split('\n')).toEqual([...lines.slice(0, 11), expect.stringMatching(/^\{.+[^}]$/)]);

    const imported = await startReplay(['--prefix', `${source}cut:`, 'import', '--in', cut], env()).exited;

    expect(imported).toEqual({
      code: EXIT_REFUSED,
      signal: null,
      stdout: '',
      stderr: `replay: ${cut}: line 12 is the file's last and ends mid-line: the file was cut short (an interrupted export or a full disk); nothing was written\n`,
    });
  });

  // The --json result followed the end line into the pipe, as the summary did.
  it('given --json export --out /dev/stdout piped, then the pipe gets exactly the export and the result is on stderr', async () => {
    const piped = path.join(dir, 'piped-json.jsonl');
    const run = await startReplayInShell(['--json', 'export', '--out', '/dev/stdout'], '| cat > "$EXPORT_FILE"', env({ EXPORT_FILE: piped })).exited;

    expect(await readFile(piped, 'utf8')).toBe(reference);
    expect(run).toMatchObject({ code: EXIT_OK, stdout: '' });
    expect(JSON.parse(run.stderr)).toMatchObject({ exported: KNOWN_EVENT_COUNT, scanned: KNOWN_EVENT_COUNT, file: '/dev/stdout' });
  });
});
