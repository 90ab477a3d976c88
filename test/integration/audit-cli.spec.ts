import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { AgentRegistry, readAgentProfiles } from '@app/agents';
import { DEFAULT_LOG_BATCH, exportFileLines, MAX_EXPORT_LINE_BYTES, readExportEndLine, REBUILD_LOG_BATCH } from '@app/audit';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { MasterKeyRing } from '@app/guest-data';
import { Decision, decideApprove, decideAssign, decideCancel, decideComplete, decideCreate, decideStart, decideVerdict, Mission } from '@app/mission';
import { countKeysByPrefix } from '@app/redis';
import { logPartitionsKey } from '@app/runtime';
import {
  aCreateInput,
  aResult,
  anEvaluation,
  deleteKeysByPrefix,
  redisUrl,
  testKeyPrefix,
  buildKnownLog,
  KNOWN_EVENT_COUNT,
  KNOWN_MISSIONS,
  knownStepTime,
  testRedis,
} from '@app/testing';
import { WebhookKeys, WebhookSubscriptions } from '@app/webhooks';
import { ScheduleRegistry } from '../../apps/intake/src/schedules/schedule-registry';
import { CliIo, EXIT_FINDINGS, EXIT_NO_LOG, EXIT_OK, EXIT_REDIS, EXIT_REFUSED, EXIT_USAGE, EXIT_WRITE, runReplay } from '../../scripts/replay';
import { flatDoc } from '../support/docs-text';
import { withEndLineCounted } from '../support/export-lines';
import { editEventInPlace } from '../support/log-rewrite';
import { relinkedLines } from '../support/relinked-export';

const { ok, retry } = KNOWN_MISSIONS;
const ROOT = path.resolve(__dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `replay <args>` in-process with the given environment, capturing its output. */
async function runReplayIn(env: CliIo['env'], args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  };
  const code = await runReplay(args, io);
  return { code, stdout, stderr };
}

describe('replay CLI (command functions, real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-cli');
  const restorePrefix = testKeyPrefix('audit-cli-restore');
  const keys = new KeyLayout(prefix);
  let dir: string;

  /** Runs `replay <args>` in-process against the test Redis and prefix (unless the args override them). */
  const replay = (...args: string[]) => runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: prefix }, args);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'replay-cli-'));
    await buildKnownLog(redis, keys);
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await deleteKeysByPrefix(redis, restorePrefix);
    await rm(dir, { recursive: true, force: true });
    await redis.quit();
  });

  it('state shows the review of a result: its rule, the decision, the reviewer and whether the output was edited', async () => {
    const reviewPrefix = testKeyPrefix('audit-cli-review');
    const store = new MissionStore(redis, new KeyLayout(reviewPrefix));
    try {
      expect((await store.append('m-review', null, decideCreate(aCreateInput()), { actor: 'intake' })).code).toBe(AppendCode.Ok);
      const steps: [string, (mission: Mission) => Decision][] = [
        ['orchestrator', (m) => decideAssign(m, 'agent-lena')],
        ['executor', (m) => decideStart(m, 1)],
        ['executor', (m) => decideComplete(m, 1, aResult())],
        ['evaluator', (m) => decideVerdict(m, anEvaluation(1, true), 3, { reviewRule: 'guest-replies' })],
        ['front-office-lead', (m) => decideApprove(m, { output: { reply: 'edited' } })],
      ];
      for (const [actor, decide] of steps) expect((await store.transition('m-review', decide, { actor })).kind).toBe('appended');
      const table = await runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: reviewPrefix }, ['state', 'm-review']);
      expect(table.code).toBe(EXIT_OK);
      expect(table.stdout).toMatch(/status\s+succeeded/);
      expect(table.stdout).toMatch(/review\s+rule guest-replies, attempt 1, asked \S+, approved with edits by front-office-lead at \S+/);
      const history = await runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: reviewPrefix }, ['history', 'm-review']);
      expect(history.stdout).toMatch(/MissionApproved\s+front-office-lead\s+approved with edits \(attempt 1\)/);
    } finally {
      await deleteKeysByPrefix(redis, reviewPrefix);
    }
  });

  it('history prints an aligned table for people and rows with --json', async () => {
    const table = await replay('history', ok);
    expect(table.code).toBe(EXIT_OK);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Mission ${ok}: 6 events, correlation corr-${ok}`);
    expect(lines[1]).toMatch(/^VER {2}AT {24}TYPE {14}ACTOR {9}SUMMARY$/);
    expect(lines[3]).toBe(
      `  1  ${knownStepTime(1).toISOString()}  MissionCreated    intake        created guest_support "Late check-out request" (normal priority)`,
    );
    expect(lines[8]).toBe(`  6  ${knownStepTime(10).toISOString()}  MissionEvaluated  evaluator     evaluated 0.92 pass by rules (guest_support@1)`);

    const json = await replay('--json', 'history', ok);
    const parsed = JSON.parse(json.stdout) as { missionId: string; events: { version: number; type: string; summary: string }[] };
    expect(parsed.events.map((e) => [e.version, e.type])).toEqual([
      [1, 'MissionCreated'],
      [2, 'MissionQueued'],
      [3, 'MissionAssigned'],
      [4, 'MissionStarted'],
      [5, 'MissionCompleted'],
      [6, 'MissionEvaluated'],
    ]);
  });

  it('state --at and --version give the mission as it was', async () => {
    const at = await replay('--json', 'state', ok, '--at', knownStepTime(5).toISOString());
    expect(at.code).toBe(EXIT_OK);
    expect(JSON.parse(at.stdout).state).toMatchObject({ version: 3, status: 'assigned', assignedAgentId: 'agent-lena' });
    const version = await replay('--json', 'state', retry, '--version', '6');
    expect(JSON.parse(version.stdout).state).toMatchObject({ version: 6, status: 'queued', attempts: 1, previousAgentIds: ['agent-omar'] });
    const table = await replay('state', ok, '--version', '3');
    expect(table.stdout).toContain(`Mission ${ok}: version 3 of 6`);
    expect(table.stdout).toMatch(/status\s+assigned/);
  });

  it('fails with exit 2 and a clear message for an unknown mission, bad dates and versions', async () => {
    // It said only '"abc" is not a positive whole number', not which setting.
    const badPartitions = await runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: prefix, LOG_PARTITIONS: 'abc' }, ['verify']);
    expect(badPartitions).toMatchObject({ code: EXIT_USAGE, stderr: 'replay: LOG_PARTITIONS: "abc" is not a positive whole number\n' });
    // It printed "OK ... 0 events" and exited 0: an audit run against a mistyped prefix passed.
    const empty = await runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: `${prefix}typo:` }, ['verify']);
    expect(empty).toMatchObject({
      code: EXIT_NO_LOG,
      stdout: '',
      stderr: expect.stringContaining(`nothing to verify: no event log under prefix "${prefix}typo:"`),
    });
    // export wrote a valid backup of nothing, rebuild and projections status reported nothing done: each with exit 0.
    const typoExport = path.join(dir, 'typo.jsonl');
    for (const [args, nothingTo] of [
      [['export', '--out', typoExport], 'export'],
      [['rebuild'], 'rebuild'],
      [['projections', 'status'], 'project'],
    ] as const) {
      expect(await runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: `${prefix}typo:` }, [...args])).toEqual({
        code: EXIT_NO_LOG,
        stdout: '',
        stderr: `replay: nothing to ${nothingTo}: no event log under prefix "${prefix}typo:" (1 partition(s)); check --prefix\n`,
      });
    }
    await expect(readFile(typoExport)).rejects.toThrow('ENOENT');
    expect(await replay('history', 'm-nope')).toMatchObject({ code: EXIT_USAGE, stderr: expect.stringContaining('unknown mission m-nope') });
    expect(await replay('state', 'm-nope')).toMatchObject({ code: EXIT_USAGE, stderr: expect.stringContaining('unknown mission m-nope') });
    // export said "Exported 0 of N events" and exited 0.
    const unknownExport = path.join(dir, 'unknown-mission.jsonl');
    expect(await replay('export', '--mission', 'm-nope', '--out', unknownExport)).toEqual({
      code: EXIT_USAGE,
      stdout: '',
      stderr: `replay: unknown mission m-nope (no events under prefix "${prefix}")\n`,
    });
    await expect(readFile(unknownExport)).rejects.toThrow('ENOENT');
    expect(await replay('state', ok, '--at', 'yesterday')).toMatchObject({
      code: EXIT_USAGE,
      stderr: expect.stringContaining('"yesterday" is not an ISO date'),
    });
    expect(await replay('state', ok, '--at', '2025-13-45')).toMatchObject({ code: EXIT_USAGE });
    expect(await replay('state', ok, '--at', '2020-01-01T00:00:00Z')).toMatchObject({ code: EXIT_USAGE, stderr: expect.stringContaining('did not exist yet') });
    expect(await replay('state', ok, '--version', '0')).toMatchObject({ code: EXIT_USAGE });
    // Both were taken and applied, to whichever point came first.
    expect(await replay('state', ok, '--at', knownStepTime(5).toISOString(), '--version', '6')).toEqual({
      code: EXIT_USAGE,
      stdout: '',
      stderr: 'replay: state takes --at or --version, not both\n',
    });
    expect(await replay('state', ok, '--version', '7')).toMatchObject({ code: EXIT_USAGE, stderr: expect.stringContaining('no version 7') });
    expect(await replay('export', '--out', path.join(dir, 'x.jsonl'), '--type', 'MissionExploded')).toMatchObject({ code: EXIT_USAGE });
    // It read the whole log, then failed to rename its partial file to '' (exit 7, "cannot write : …; no  was written").
    expect(await replay('export', '--out', '')).toEqual({ code: EXIT_USAGE, stdout: '', stderr: 'replay: --out needs a file name\n' });
    expect(await replay('frobnicate')).toMatchObject({ code: EXIT_USAGE });
  });

  describe('log heads as anchors: a log rewritten with its hashes recomputed', () => {
    const forgedPrefix = testKeyPrefix('audit-cli-forged');
    afterAll(async () => deleteKeysByPrefix(redis, forgedPrefix));

    /**
     * The export's event lines with the first one's title changed and every hash after it computed
     * again, as someone who can write the file (or Redis) can: the chains hold, verify alone says OK.
     */
    const rewritten = (lines: readonly string[]): string[] => {
      let edited = false;
      return relinkedLines(lines, (body) => {
        if (edited || !body.includes('"title":"')) return body;
        edited = true;
        return body.replace(/"title":"[^"]*"/, '"title":"FORGED: refund approved"');
      });
    };

    it('given the heads verify printed, when the log is replaced by one rewritten from its start, then verify --anchor names the head missing and exits 1, where verify alone says OK', async () => {
      const first = await replay('verify');
      expect(first.code).toBe(EXIT_OK);
      const head = /Log heads \(keep a copy elsewhere[^)]*\): 0:([0-9a-f]{40})$/m.exec(first.stdout)?.[1];
      expect(head).toMatch(/^[0-9a-f]{40}$/);
      expect(JSON.parse((await replay('--json', 'verify')).stdout).heads).toEqual([head]);
      expect(await replay('verify', '--anchor', `0:${head}`)).toMatchObject({ code: EXIT_OK, stdout: expect.stringMatching(/^OK: /) });

      const file = path.join(dir, 'anchored.jsonl');
      expect((await replay('export', '--out', file)).code).toBe(EXIT_OK);
      const forged = path.join(dir, 'forged.jsonl');
      const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
      await writeFile(forged, `${withEndLineCounted(rewritten(lines)).join('\n')}\n`);
      expect((await replay('--prefix', forgedPrefix, 'import', '--in', forged)).code).toBe(EXIT_OK);

      // The limit of the chains: recomputed, they hold.
      expect(await replay('--prefix', forgedPrefix, 'verify')).toMatchObject({ code: EXIT_OK });
      const anchored = await replay('--prefix', forgedPrefix, 'verify', '--anchor', `0:${head}`);
      expect(anchored.code).toBe(EXIT_FINDINGS);
      expect(anchored.stdout).toContain('anchor-missing');
      expect(anchored.stdout).toContain(`the log head ${head}, recorded earlier, names no event of the log`);
      expect(JSON.parse((await replay('--prefix', forgedPrefix, '--json', 'verify', '--anchor', `0:${head}`)).stdout).findings).toEqual([
        expect.objectContaining({ kind: 'anchor-missing', missionId: '' }),
      ]);
    });

    it('given an anchor that is no partition:hash, or names a partition the log does not have, then verify exits 2 before reading the log', async () => {
      const hash = 'a'.repeat(40);
      for (const anchor of ['nonsense', hash, `0:${hash.slice(1)}`, `0:${hash.toUpperCase()}`]) {
        expect(await replay('verify', '--anchor', anchor)).toMatchObject({ code: EXIT_USAGE, stderr: expect.stringContaining('is not <partition>:<hash>') });
      }
      expect(await replay('verify', '--anchor', `1:${hash}`)).toMatchObject({
        code: EXIT_USAGE,
        stderr: expect.stringContaining('--anchor names partition 1, but the log has 1 (0 to 0)'),
      });
    });
  });

  // An export was written with the process's default mode (0644 under the usual umask), readable by every local user.
  it('given an export, then its file is readable by its owner only, also when it replaces a file that was not', async () => {
    const fresh = path.join(dir, 'owner-only.jsonl');
    expect((await replay('export', '--out', fresh)).code).toBe(EXIT_OK);
    expect((await stat(fresh)).mode & 0o777).toBe(0o600);
    const replaced = path.join(dir, 'was-shared.jsonl');
    await writeFile(replaced, 'old\n', { mode: 0o644 });
    await chmod(replaced, 0o644);
    expect((await replay('export', '--out', replaced)).code).toBe(EXIT_OK);
    expect((await stat(replaced)).mode & 0o777).toBe(0o600);
  });

  // A full disk exited 2, which the docs give for bad arguments: a backup job would have been told to fix its command line.
  it('given a file it cannot write (a full disk), then export exits 7 saying so', async () => {
    expect(await replay('export', '--out', '/dev/full')).toMatchObject({
      code: EXIT_WRITE,
      stderr: expect.stringContaining('cannot write /dev/full: ENOSPC'),
    });
  });

  it('given --out in a directory that does not exist, then export says so of --out, not of the partial file it opens beside it', async () => {
    const out = path.join(dir, 'no-such-dir', 'backup.jsonl');
    const result = await replay('export', '--out', out);
    // It read "ENOENT: no such file or directory, open '<out>.partial-17536-8ea1ec8f'".
    expect(result.stderr).toContain(`cannot write ${out}: its directory ${path.join(dir, 'no-such-dir')} does not exist`);
    expect(result.stderr).not.toContain('.partial-');
    expect(result.code).not.toBe(EXIT_OK);
  });

  // readline holds a line whole until its end: a file of one endless line was read into memory until the process failed.
  it('given an import file with a line longer than any export line, then import refuses it with exit 5 at that line, nothing written', async () => {
    const file = path.join(dir, 'endless-line.jsonl');
    const exported = path.join(dir, 'before-endless.jsonl');
    expect((await replay('export', '--out', exported)).code).toBe(EXIT_OK);
    const [firstLine] = (await readFile(exported, 'utf8')).split('\n');
    await writeFile(file, `${firstLine}\n{"pad":"${'x'.repeat(MAX_EXPORT_LINE_BYTES)}"}\n`);
    const target = testKeyPrefix('audit-cli-endless');
    try {
      expect(await replay('--prefix', target, 'import', '--in', file)).toMatchObject({
        code: EXIT_REFUSED,
        stderr: expect.stringContaining(`line 2 is longer than ${MAX_EXPORT_LINE_BYTES} bytes, which no export line is; nothing was written`),
      });
      expect(await countKeysByPrefix(redis, target)).toBe(0);
    } finally {
      await deleteKeysByPrefix(redis, target);
    }
  });

  it('given a queue setting the services would refuse, then import refuses it as they do, nothing written', async () => {
    const exported = path.join(dir, 'before-queue-setting.jsonl');
    expect((await replay('export', '--out', exported)).code).toBe(EXIT_OK);
    const target = testKeyPrefix('audit-cli-queue-setting');
    try {
      const run = await runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: target, PRIORITY_HEADSTART_MS_PER_POINT: '99999999' }, ['import', '--in', exported]);
      expect(run).toMatchObject({ code: EXIT_USAGE, stderr: expect.stringContaining('PRIORITY_HEADSTART_MS_PER_POINT must not be greater than 3600000') });
      expect(await countKeysByPrefix(redis, target)).toBe(0);
    } finally {
      await deleteKeysByPrefix(redis, target);
    }
  });

  it('given lines split across chunks, then the export line reader gives each whole, and names the first line over the limit', async () => {
    const read = async (chunks: string[], max: number) => {
      const lines: string[] = [];
      for await (const line of exportFileLines(Readable.from(chunks.map((chunk) => Buffer.from(chunk))), max)) lines.push(line);
      return lines;
    };
    expect(await read(['{"a"', ':1}\n{"b":2}\n', '{"c":', '3}'], 8)).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    await expect(read(['{"a":1}\n{"b":', '"too long"}\n'], 8)).rejects.toThrow('line 2 is longer than 8 bytes, which no export line is');
    await expect(read(['{"a":1}\n{"b":"too long, no newline'], 8)).rejects.toThrow('line 2 is longer than 8 bytes');
  });

  // Only purge held the prefix to KEY_PREFIX's rule: `import --prefix nocolon` wrote keys that purge then refused to delete.
  // Export (and purge, purge-cli.spec) still take such a legacy prefix, to move a deployment off it (replay-legacy-prefix.spec).
  it('given a prefix without its closing ":" (by flag or env) or an empty one, then every command but export and purge refuses it with exit 2 and writes nothing', async () => {
    const file = path.join(dir, 'for-bad-prefix.jsonl');
    expect((await replay('export', '--out', file)).code).toBe(EXIT_OK);
    const noColon = `${prefix}nocolon`; // its keys, if any were written, are deleted with prefix
    const commands = [['history', ok], ['state', ok], ['verify'], ['rebuild'], ['import', '--in', file], ['projections', 'status'], ['rewrap-keys']];
    for (const command of commands) {
      const name = command[0] === 'projections' ? command.slice(0, 2).join(' ') : command[0];
      const refusal = {
        code: EXIT_USAGE,
        stdout: '',
        stderr: expect.stringMatching(new RegExp(`^replay: ${name} refuses prefix "${noColon}": a key prefix ends with ":"`)),
      };
      expect(await replay('--prefix', noColon, ...command)).toEqual(refusal);
      expect(await runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: noColon }, command)).toEqual(refusal);
      expect(await runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: '' }, command)).toMatchObject({
        code: EXIT_USAGE,
        stderr: expect.stringContaining(`${name} refuses prefix ""`),
      });
    }
    const exportArgs = ['export', '--out', path.join(dir, 'bad-prefix-out.jsonl')];
    // Taken, with the warning (it holds no log here: exit 3).
    expect(await replay('--prefix', noColon, ...exportArgs)).toMatchObject({
      code: EXIT_NO_LOG,
      stderr: expect.stringContaining(`"${noColon}" is a legacy key prefix`),
    });
    expect(await runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: '' }, exportArgs)).toMatchObject({
      code: EXIT_USAGE,
      stderr: expect.stringContaining('export refuses prefix ""'),
    });
    expect(await countKeysByPrefix(redis, noColon)).toBe(0);
  });

  // verify, export and history ran and exited 0 on a pair every service refuses; only import and rewrap-keys refused it.
  it('given both DATA_KEY_SECRET and DATA_KEY_FILE, then every command refuses them with exit 2, as the README and --help say, and writes nothing', async () => {
    const backup = path.join(dir, 'for-both-keys.jsonl');
    expect((await replay('export', '--out', backup)).code).toBe(EXIT_OK);
    const out = path.join(dir, 'both-keys.jsonl');
    const both = { REDIS_URL: redisUrl(), KEY_PREFIX: prefix, DATA_KEY_SECRET: 'k'.repeat(32), DATA_KEY_FILE: path.join(dir, 'data-key') };
    const commands = [
      ['history', ok],
      ['state', ok],
      ['verify'],
      ['rebuild'],
      ['export', '--out', out],
      ['import', '--in', backup],
      ['projections', 'status'],
      ['purge'],
      ['rewrap-keys'],
    ];
    for (const command of commands) {
      expect(await runReplayIn(both, command)).toEqual({
        code: EXIT_USAGE,
        stdout: '',
        stderr: 'replay: the master key: set DATA_KEY_SECRET or DATA_KEY_FILE, not both\n',
      });
    }
    await expect(readFile(out)).rejects.toThrow('ENOENT');
  });

  // --help exited 2 with the refusal and no help: an operator could not read what the variables mean where they were wrong.
  it('given variables every command refuses (both master keys, a bad LOG_PARTITIONS), then --help (and help <command>) still prints with exit 0', async () => {
    const refused = [
      { DATA_KEY_SECRET: 'k'.repeat(32), DATA_KEY_FILE: path.join(dir, 'data-key') },
      { LOG_PARTITIONS: 'abc' },
      { REDIS_LIVENESS_TIMEOUT_MS: 'soon' },
    ];
    for (const variables of refused) {
      const env = { REDIS_URL: redisUrl(), KEY_PREFIX: prefix, ...variables };
      for (const [args, usage] of [
        [['--help'], 'Usage: replay [options] [command]'],
        [['help', 'verify'], 'Usage: replay verify'],
        [['rewrap-keys', '--help'], 'Usage: replay rewrap-keys'],
        [['projections', 'rebuild', '--help'], 'Usage: replay projections rebuild'],
      ] as const) {
        expect(await runReplayIn(env, [...args])).toEqual({ code: EXIT_OK, stdout: expect.stringContaining(usage), stderr: '' });
      }
    }
  });

  it('fails fast with exit 4 naming the host when Redis is unreachable (2 for a bad URL)', async () => {
    const started = Date.now();
    const run = await replay('--redis-url', 'redis://127.0.0.1:1', 'verify');
    expect(run).toMatchObject({ code: EXIT_REDIS, stderr: expect.stringContaining('cannot reach Redis at 127.0.0.1:1') });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await replay('--redis-url', 'not a url', 'verify')).toMatchObject({ code: EXIT_USAGE, stderr: expect.stringContaining('is not a URL') });
    // A password with a `/` in it, not percent-encoded: the message quoted the whole URL, password and all.
    const unparsed = await replay('--redis-url', 'redis://:s3cr/et-PW@127.0.0.1:6379', 'verify');
    expect(unparsed).toMatchObject({ code: EXIT_USAGE, stderr: expect.stringContaining('--redis-url (or REDIS_URL) is not a URL') });
    expect(unparsed.stderr).not.toContain('et-PW');
    // Credentials Redis refuses need a fix, not another try.
    expect(await replay('--redis-url', redisUrl().replace('redis://', 'redis://nobody:wrong@'), 'verify')).toMatchObject({
      code: EXIT_USAGE,
      stderr: expect.stringContaining('WRONGPASS'),
    });
  });

  // Exit 2 ("bad input") used to cover these too, so a script could not tell "try again" from "fix the command".
  it.each([
    ['goes away after the handshake', EXIT_REDIS, null],
    ['answers READONLY (a failover)', EXIT_REDIS, '-READONLY You cannot write against a read only replica.'],
    ['answers BUSY (a long script)', EXIT_REDIS, '-BUSY Redis is busy running a script.'],
    ['refuses the command for this user', EXIT_USAGE, '-NOPERM this user has no permissions to run the command'],
  ])('given a Redis that %s, when a command runs, then it exits %s', async (_, code, answer) => {
    const INFO = 'redis_version:7.0.0\r\nloading:0';
    const server = net.createServer((socket) => {
      let pending = '';
      socket.on('data', (chunk) => {
        pending += chunk.toString('latin1');
        for (let command = takeRespCommand(); command; command = takeRespCommand()) {
          const name = command[0].toUpperCase();
          if (name === 'PING') socket.write('+PONG\r\n');
          else if (name === 'INFO') socket.write(`$${INFO.length}\r\n${INFO}\r\n`);
          else if (name === 'CLIENT' || name === 'SELECT') socket.write('+OK\r\n');
          else if (answer) socket.write(`${answer}\r\n`);
          else return void socket.destroy();
        }
      });
      /** The next whole command (a RESP array of bulk strings) from `pending`, or null. */
      function takeRespCommand(): string[] | null {
        const match = /^\*(\d+)\r\n/.exec(pending);
        if (!match) return null;
        let at = match[0].length;
        const parts: string[] = [];
        for (let i = 0; i < Number(match[1]); i++) {
          const bulk = /^\$(\d+)\r\n/.exec(pending.slice(at));
          if (!bulk || pending.length < at + bulk[0].length + Number(bulk[1]) + 2) return null;
          at += bulk[0].length;
          parts.push(pending.slice(at, at + Number(bulk[1])));
          at += Number(bulk[1]) + 2;
        }
        pending = pending.slice(at);
        return parts;
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const run = await replay('--redis-url', `redis://127.0.0.1:${port}`, 'history', ok);
      expect(run.code).toBe(code);
      expect((await replay('--help')).stdout).toContain(`${code}  ${code === EXIT_REDIS ? 'Redis cannot be reached' : 'bad arguments or input'}`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('--help works on the program and on every command', async () => {
    const help = await replay('--help');
    expect(help.code).toBe(EXIT_OK);
    for (const command of ['history', 'state', 'rebuild', 'verify', 'export', 'import']) {
      expect(help.stdout).toContain(command);
      const own = await replay(command, '--help');
      expect(own.code).toBe(EXIT_OK);
      expect(own.stdout).toContain(`Usage: replay ${command}`);
    }
    expect(await replay('help', 'verify')).toMatchObject({ code: EXIT_OK, stdout: expect.stringContaining('Usage: replay verify') });
    // No subcommand is bad usage: the help goes to stderr.
    expect(await replay('projections')).toMatchObject({ code: EXIT_USAGE, stdout: '', stderr: expect.stringContaining('Usage: replay projections') });
  });

  // It named <file>.partial-<pid>, without the random part ExportFile adds (and the README names).
  it('given export --help, then it names the partial file as export writes it', async () => {
    const help = (await replay('export', '--help')).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('written beside it as <file>.partial-<pid>-<random> until then');
    expect(flatDoc('README.md')).toContain('written beside it as `<file>.partial-<pid>-<random>`');
  });

  // The CLI passed 10,000 entries a batch to rebuild, undoing the library's small batches (docs/performance.md § 3.5).
  it('given no --batch-size, then rebuild and verify read the log in the batches their library chose', async () => {
    expect((await replay('rebuild', '--help')).stdout).toContain(`(default: ${REBUILD_LOG_BATCH})`);
    expect((await replay('verify', '--help')).stdout).toContain(`(default: ${DEFAULT_LOG_BATCH})`);
  });

  it('verify exits 0 on the clean log, 1 with a report naming the drifted mission', async () => {
    const clean = await replay('verify');
    expect(clean.code).toBe(EXIT_OK);
    expect(clean.stdout).toContain(`OK: hash chains, versions, heads and read model hold for ${KNOWN_EVENT_COUNT} events of 5 missions`);

    const state = await redis.hget(keys.mission(ok), 's');
    await redis.hset(keys.mission(ok), 's', (state ?? '').replace('agent-lena', 'agent-mallory'));
    try {
      const drifted = await replay('verify');
      expect(drifted.code).toBe(EXIT_FINDINGS);
      expect(drifted.stdout).toMatch(new RegExp(`read-model-drift\\s+${ok}\\s+6\\s+\\S+\\s+s differs from the replayed state in assignedAgentId`));
      expect(drifted.stdout).toContain('FAILED: 1 finding');
      const json = JSON.parse((await replay('--json', 'verify')).stdout) as { ok: boolean; findings: { missionId: string }[] };
      expect(json.ok).toBe(false);
      expect(json.findings.map((f) => f.missionId)).toEqual([ok]);
      // rebuild repairs it.
      expect((await replay('rebuild')).code).toBe(EXIT_OK);
      expect((await replay('verify')).code).toBe(EXIT_OK);
    } finally {
      await redis.hset(keys.mission(ok), 's', state ?? '');
    }
  });

  // rebuild exited 0, "switched 1", with the forgery in the read model: the remedy the docs gave for the drift verify reported.
  it('given an event edited in the log, then rebuild leaves its mission as it was, names it and exits 1', async () => {
    const editedPrefix = testKeyPrefix('audit-cli-edited');
    const edited = new KeyLayout(editedPrefix);
    try {
      await buildKnownLog(redis, edited);
      const target = await redis.lindex(edited.missionEvents(KNOWN_MISSIONS.cancel), 2);
      await editEventInPlace(redis, edited, target ?? '', (json) => json.replace('"agentId":"agent-omar"', '"agentId":"agent-mallory"'));
      const truthful = await redis.hget(edited.mission(KNOWN_MISSIONS.cancel), 's');

      const verified = await replay('--prefix', editedPrefix, 'verify');
      expect(verified.stdout).toMatch(new RegExp(`read-model-drift\\s+${KNOWN_MISSIONS.cancel}\\s+4\\s+\\S+\\s+follows the change of its log events`));
      const rebuilt = await replay('--prefix', editedPrefix, 'rebuild');
      expect(rebuilt.code).toBe(EXIT_FINDINGS);
      expect(rebuilt.stdout).toMatch(/left alone, log hash chain broken\s+1/);
      expect(rebuilt.stdout).toContain(`Missions whose log hash chain breaks, their read model left as it was`);
      expect(rebuilt.stdout).toMatch(new RegExp(`as it was .*: ${KNOWN_MISSIONS.cancel}$`, 'm'));
      expect(await redis.hget(edited.mission(KNOWN_MISSIONS.cancel), 's')).toBe(truthful);
      const json = await replay('--prefix', editedPrefix, '--json', 'rebuild');
      expect(json.code).toBe(EXIT_FINDINGS);
      expect((JSON.parse(json.stdout) as { brokenChain: string[] }).brokenChain).toEqual([KNOWN_MISSIONS.cancel]);
    } finally {
      await deleteKeysByPrefix(redis, editedPrefix);
    }
  });

  // history printed 14 events jumping v7 to v9, and state --version 9 folded across the gap, both with exit 0.
  it('given an event deleted from the log, then history names the missing version and exits 1, and state refuses to fold across it', async () => {
    const gapPrefix = testKeyPrefix('audit-cli-gap');
    const gapped = new KeyLayout(gapPrefix);
    try {
      await buildKnownLog(redis, gapped);
      const victim = await redis.lindex(gapped.missionEvents(retry), 7);
      expect(await redis.xdel(gapped.partitions[0].log, victim ?? '')).toBe(1);

      const history = await replay('--prefix', gapPrefix, 'history', retry);
      expect(history.code).toBe(EXIT_FINDINGS);
      expect(history.stdout).toContain(`Mission ${retry}: 14 events`);
      expect(history.stdout).toMatch(/^v8 missing from the log$/m);
      expect(history.stderr).toContain(`mission ${retry}: versions are missing from the log (run verify)`);
      const json = await replay('--prefix', gapPrefix, '--json', 'history', retry);
      expect(json.code).toBe(EXIT_FINDINGS);
      expect((JSON.parse(json.stdout) as { missing: unknown }).missing).toEqual([{ from: 8, to: 8 }]);

      for (const point of [['--version', '9'], []]) {
        const across = await replay('--prefix', gapPrefix, 'state', retry, ...point);
        expect(across.code).toBe(EXIT_FINDINGS);
        expect(across.stdout).toBe('');
        expect(across.stderr).toContain(`mission ${retry}: v8 missing from the log; no state is folded across it (run verify)`);
      }
      const before = await replay('--prefix', gapPrefix, 'state', retry, '--version', '7');
      expect(before.code).toBe(EXIT_OK);
      expect(before.stdout).toContain('version 7 of 15');

      // A mission's last event deleted leaves no neighbour after it: its event list still names it.
      const lastOfOk = await redis.lindex(gapped.missionEvents(ok), 5);
      expect(await redis.xdel(gapped.partitions[0].log, lastOfOk ?? '')).toBe(1);
      const tail = await replay('--prefix', gapPrefix, 'history', ok);
      expect(tail.code).toBe(EXIT_FINDINGS);
      expect(tail.stdout).toMatch(/^v6 missing from the log$/m);
      for (const point of [['--version', '6'], []]) {
        const across = await replay('--prefix', gapPrefix, 'state', ok, ...point);
        expect(across.code).toBe(EXIT_FINDINGS);
        expect(across.stderr).toContain(`mission ${ok}: v6 missing from the log; no state is folded across it`);
      }
      expect((await replay('--prefix', gapPrefix, 'state', ok, '--version', '5')).code).toBe(EXIT_OK);
      expect((await replay('--prefix', gapPrefix, 'history', KNOWN_MISSIONS.dead)).code).toBe(EXIT_OK);
    } finally {
      await deleteKeysByPrefix(redis, gapPrefix);
    }
  });

  it('given schedules, webhook subscriptions and agents beside the log, then export and import each say that the file does not carry them', async () => {
    const fullPrefix = testKeyPrefix('audit-cli-left-out');
    const fullRestore = testKeyPrefix('audit-cli-left-out-restore');
    const full = new KeyLayout(fullPrefix);
    const file = path.join(dir, 'left-out.jsonl');
    try {
      await buildKnownLog(redis, full);
      const agents = new AgentRegistry(redis, full);
      for (const profile of readAgentProfiles(path.join(ROOT, 'fixtures', 'agents.json')).slice(0, 2)) await agents.register(profile, 'ops');
      const schedules = new ScheduleRegistry(redis, full);
      await schedules.create(schedules.newId(), { cron: '0 6 1 * *', timeZone: 'Europe/Berlin', template: aCreateInput(), catchUpMs: null }, 'ops');
      const ring = MasterKeyRing.fromSecrets(randomBytes(32).toString('base64url'));
      await new WebhookSubscriptions(redis, new WebhookKeys(full), ring).create(
        { url: 'https://erp.example.com/hooks', eventTypes: ['mission.finished'], description: '' },
        'ops',
      );

      // A restore from the file alone lost them, and neither command said so.
      const exported = await replay('--prefix', fullPrefix, 'export', '--out', file);
      expect(exported.code).toBe(EXIT_OK);
      expect(exported.stdout).toContain(
        `Not in it: 1 schedule, 1 webhook subscription and 2 agents under ${fullPrefix}, which an import does not bring back; see docs/operations.md, "What an import restores".`,
      );
      expect(JSON.parse((await replay('--prefix', fullPrefix, '--json', 'export', '--out', file)).stdout).leftOut).toEqual({
        schedules: 1,
        webhookSubscriptions: 1,
        agents: 2,
      });
      const imported = await replay('--prefix', fullRestore, 'import', '--in', file);
      expect(imported.code).toBe(EXIT_OK);
      expect(imported.stdout).toContain('Not imported, as an export holds none: schedules, webhook subscriptions and the agent registry');
    } finally {
      await deleteKeysByPrefix(redis, fullPrefix);
      await deleteKeysByPrefix(redis, fullRestore);
    }
  });

  it('export then import into an empty prefix reproduces the log; import refuses a prefix with a log', async () => {
    const file = path.join(dir, 'backup.jsonl');
    const exported = await replay('export', '--out', file);
    expect(exported).toMatchObject({ code: EXIT_OK, stdout: `Exported ${KNOWN_EVENT_COUNT} of ${KNOWN_EVENT_COUNT} events to ${file}.\n` });
    // The events, the end line and the empty string after the last newline.
    expect((await readFile(file, 'utf8')).split('\n')).toHaveLength(KNOWN_EVENT_COUNT + 2);

    const imported = await replay('--prefix', restorePrefix, 'import', '--in', file);
    expect(imported.code).toBe(EXIT_OK);
    expect(imported.stdout).toContain(`Imported ${KNOWN_EVENT_COUNT} events of 5 missions`);
    expect((await replay('--prefix', restorePrefix, 'verify')).code).toBe(EXIT_OK);
    for (const id of Object.values(KNOWN_MISSIONS)) {
      expect(await redis.hmget(new KeyLayout(restorePrefix).mission(id), 's', 'v', 'st')).toEqual(await redis.hmget(keys.mission(id), 's', 'v', 'st'));
    }

    const again = await replay('--prefix', restorePrefix, 'import', '--in', file);
    expect(again).toMatchObject({ code: EXIT_REFUSED, stderr: expect.stringContaining('refusing to import') });
    expect(await replay('import', '--in', path.join(dir, 'missing.jsonl'))).toMatchObject({
      code: EXIT_USAGE,
      stderr: expect.stringContaining('no such file'),
    });

    // A file cut short after a whole line is refused before anything is written; the answer names
    // the option for exports made before the end line, which takes it as it is.
    const exportedLines = (await readFile(file, 'utf8')).split('\n');
    const cut = path.join(dir, 'cut.jsonl');
    await writeFile(cut, `${exportedLines.slice(0, 20).join('\n')}\n`);
    const cutPrefix = `${restorePrefix}cut:`; // deleted with restorePrefix
    const refused = await replay('--prefix', cutPrefix, 'import', '--in', cut);
    expect(refused).toMatchObject({ code: EXIT_REFUSED, stderr: expect.stringContaining('without its end line: the file was cut short') });
    expect(refused.stderr).toContain('--no-end-line');
    expect(await redis.exists(new KeyLayout(cutPrefix).partitions[0].log)).toBe(0);
    expect(await replay('--prefix', cutPrefix, 'import', '--no-end-line', '--in', cut)).toMatchObject({
      code: EXIT_OK,
      stdout: expect.stringContaining('Imported 20 events'),
    });

    // A file with a bad line in the middle breaks the chains there: refused before anything is written.
    const broken = path.join(dir, 'broken.jsonl');
    await writeFile(broken, exportedLines.map((line, index) => (index === 3 ? 'not json' : line)).join('\n'));
    const halfPrefix = `${restorePrefix}half:`; // deleted with restorePrefix
    const half = await replay('--prefix', halfPrefix, 'import', '--in', broken);
    expect(half).toMatchObject({ code: EXIT_REFUSED, stderr: expect.stringContaining(`line 4 breaks the export's hash chains: it is not a JSON object`) });
    expect(await countKeysByPrefix(redis, halfPrefix)).toBe(0);

    const filtered = path.join(dir, 'evals.jsonl');
    const byType = await replay('--json', 'export', '--type', 'MissionEvaluated', '--mission', retry, '--out', filtered);
    expect(JSON.parse(byType.stdout)).toMatchObject({ exported: 2, scanned: KNOWN_EVENT_COUNT });
  });

  // A duplicated line imported with exit 0 and "1 missions cannot be folded; run verify.", the copy written.
  it.each([
    ['a duplicated event line', (lines: string[]) => [...lines.slice(0, 4), lines[3], ...lines.slice(4)], 5, 'its logPrevHash'],
    ['an edited event line', (lines: string[]) => lines.map((line, i) => (i === 3 ? line.replace('"actor":"', '"actor":"x-') : line)), 5, 'its logPrevHash'],
    ['a removed event line', (lines: string[]) => lines.filter((_, i) => i !== 3), 4, 'its logPrevHash'],
    ['two lines swapped', (lines: string[]) => [...lines.slice(0, 3), lines[4], lines[3], ...lines.slice(5)], 4, 'its logPrevHash'],
  ])(
    'given an export with %s (its end line counted anew), when it is imported, then it is refused with exit 5 naming the line and its mission, and nothing is written',
    async (name, change, badLine, detail) => {
      const file = path.join(dir, 'for-chains.jsonl');
      expect((await replay('export', '--out', file)).code).toBe(EXIT_OK);
      const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
      const changed = withEndLineCounted(change(lines));
      const bad = JSON.parse(changed[badLine - 1]) as { missionId: string; version: number };
      const slug = name.replace(/\W+/g, '-');
      const tampered = path.join(dir, `${slug}.jsonl`);
      await writeFile(tampered, `${changed.join('\n')}\n`);
      const target = `${restorePrefix}${slug}:`; // deleted with restorePrefix

      const refused = await replay('--prefix', target, 'import', '--in', tampered);

      expect(refused).toMatchObject({ code: EXIT_REFUSED, stdout: '' });
      expect(refused.stderr).toContain(
        `replay: ${tampered}: refusing to import: line ${badLine} (mission ${bad.missionId} v${bad.version}) breaks the export's hash chains: ${detail}`,
      );
      expect(refused.stderr).toMatch(/; nothing was written\n$/);
      expect(await countKeysByPrefix(redis, target)).toBe(0);
    },
  );

  // A line is held by the next line's links: the last event of a partition was held by nothing, and an edit of it
  // (or its removal, the end line's count lowered) imported with exit 0 and verified.
  it.each([
    ['its last event line edited', (lines: string[], last: number) => lines.map((line, i) => (i === last ? line.replace('"actor":"', '"actor":"Z') : line)), 0],
    [
      'its last event line removed and the end line counting one event less',
      (lines: string[], last: number) =>
        lines
          .filter((_, i) => i !== last)
          .map((line) => (line.includes('"kind":"export-end"') ? JSON.stringify({ ...JSON.parse(line), events: JSON.parse(line).events - 1 }) : line)),
      -1,
    ],
  ])('given an export with %s, when it is imported, then it is refused with exit 5 naming the line, and nothing is written', async (name, change, shift) => {
    const file = path.join(dir, 'for-heads.jsonl');
    expect((await replay('export', '--out', file)).code).toBe(EXIT_OK);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const last = lines.findLastIndex((line) => !('kind' in (JSON.parse(line) as object)));
    const tampered = path.join(dir, `${name.replace(/\W+/g, '-')}.jsonl`);
    await writeFile(tampered, `${change(lines, last).join('\n')}\n`);
    const target = `${restorePrefix}heads:`; // deleted with restorePrefix

    const refused = await replay('--prefix', target, 'import', '--in', tampered);

    expect(refused).toMatchObject({ code: EXIT_REFUSED, stdout: '' });
    expect(refused.stderr).toContain(
      `replay: ${tampered}: refusing to import: line ${last + 1 + shift}, the last event of log partition 0, is not the head the export's end line records for it`,
    );
    expect(await countKeysByPrefix(redis, target)).toBe(0);
  });

  // A filtered export was refused only by its broken hash chains, a message that did not say the file was an extract.
  it('given a filtered export, then import refuses it with exit 5 saying it is filtered and by what, and writes nothing', async () => {
    const file = path.join(dir, 'evals.jsonl');
    expect((await replay('export', '--type', 'MissionEvaluated', '--out', file)).code).toBe(EXIT_OK);
    expect(await readExportEndLine(file)).toMatchObject({ events: 4, filter: { type: 'MissionEvaluated' } });
    const target = `${restorePrefix}filtered:`; // deleted with restorePrefix
    expect(await replay('--prefix', target, 'import', '--in', file)).toEqual({
      code: EXIT_REFUSED,
      stdout: '',
      stderr:
        `replay: ${file}: refusing to import: the export is filtered (--type MissionEvaluated): it holds only the events that matched, so only part of ` +
        'the hash chains, an extract to read and not a backup to restore; import a whole export (replay export without --from, --to, --type or --mission); nothing was written\n',
    });
    expect(await countKeysByPrefix(redis, target)).toBe(0);
  });

  // The partition refusal ended with the --no-end-line hint, which cannot help it; a file of one line `not json` was
  // "an export that ends (line 1) without its end line".
  it('given an import refused for its partitions or a file that is no JSON, then the answer names the cause, the --no-end-line hint only where it applies', async () => {
    const file = path.join(dir, 'for-refusals.jsonl');
    expect((await replay('export', '--out', file)).code).toBe(EXIT_OK);
    const target = `${restorePrefix}refusals:`; // deleted with restorePrefix

    const partitions = await replay('--prefix', target, '--partitions', '2', 'import', '--in', file);
    expect(partitions).toMatchObject({ code: EXIT_REFUSED, stderr: expect.stringContaining('import with LOG_PARTITIONS=1; nothing was written\n') });
    expect(partitions.stderr).not.toContain('--no-end-line');

    const notJson = path.join(dir, 'not-json.jsonl');
    await writeFile(notJson, 'not json\n');
    for (const args of [
      ['import', '--in', notJson],
      ['import', '--no-end-line', '--in', notJson],
    ]) {
      expect(await replay('--prefix', target, ...args)).toEqual({
        code: EXIT_REFUSED,
        stdout: '',
        stderr: `replay: ${notJson}: line 1 is not a JSON object; nothing was written\n`,
      });
    }
    expect(await countKeysByPrefix(redis, target)).toBe(0);
  });

  it('given the known log, when projections rebuild daily-report runs, then the projection has no lag and status says so; an unknown name is exit 2', async () => {
    const rebuilt = await replay('--json', 'projections', 'rebuild', 'daily-report');
    expect(rebuilt.code).toBe(EXIT_OK);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ projection: 'daily-report', events: KNOWN_EVENT_COUNT });

    const status = await replay('--json', 'projections', 'status');
    expect(JSON.parse(status.stdout)).toEqual([
      { projection: 'daily-report', checkpoints: { [keys.partitions[0].log]: expect.stringMatching(/^\d+-\d+$/) }, lag: { events: 0, seconds: 0 } },
    ]);
    expect((await replay('projections', 'status')).stdout).toMatch(/daily-report\s+0\s+0\.0/);

    const unknown = await replay('projections', 'rebuild', 'nope');
    expect(unknown).toMatchObject({ code: EXIT_USAGE, stderr: expect.stringContaining('"nope" is not a projection (daily-report)') });
    expect((await replay('projections', 'rebuild', '--help')).stdout).toContain('Usage: replay projections rebuild');
  });
});

describe('replay CLI on a partitioned log (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-cli-partitioned');
  const restorePrefix = testKeyPrefix('audit-cli-partitioned-restore');
  const keys = new KeyLayout(prefix, 3);
  let dir: string;

  const replay = (...args: string[]) => runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: prefix, LOG_PARTITIONS: '3' }, args);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'replay-cli-partitioned-'));
    await buildKnownLog(redis, keys);
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await deleteKeysByPrefix(redis, restorePrefix);
    await rm(dir, { recursive: true, force: true });
    await redis.quit();
  });

  it('given an export of the 3 partitions, when it is imported with LOG_PARTITIONS=3, then each partition chain of the file holds and the copy verifies', async () => {
    const file = path.join(dir, 'backup.jsonl');
    expect((await replay('export', '--out', file)).code).toBe(EXIT_OK);

    const imported = await replay('--prefix', restorePrefix, 'import', '--in', file);

    expect(imported).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(JSON.parse((await replay('--prefix', restorePrefix, '--json', 'verify')).stdout)).toMatchObject({ ok: true, events: KNOWN_EVENT_COUNT });
  });

  // It printed `0: 1: 2:<hash> …`, and `--anchor 0:` was then refused as no <partition>:<hash>.
  it('given partitions with no event yet, when verify prints the log heads, then each head it prints is one --anchor takes, and the empty ones are named apart', async () => {
    const sparse = `${restorePrefix}sparse:`; // deleted with restorePrefix
    const sparseKeys = new KeyLayout(sparse, 8); // 5 missions in 8 partitions: 3 at least stay empty
    await buildKnownLog(redis, sparseKeys);
    const run = (...args: string[]) => runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: sparse, LOG_PARTITIONS: '8' }, args);
    const { heads } = JSON.parse((await run('--json', 'verify')).stdout) as { heads: string[] };
    const empty = heads.flatMap((head, partition) => (head ? [] : [partition]));

    const verified = await run('verify');

    expect(verified.code).toBe(EXIT_OK);
    const line = /^Log heads \(keep a copy elsewhere[^)]*\): (.*)$/m.exec(verified.stdout)?.[1] ?? '';
    const printed = line.split(' (no events yet')[0].split(' ');
    expect(printed).toEqual(heads.flatMap((head, partition) => (head ? [`${partition}:${head}`] : [])));
    expect(line).toContain(`(no events yet, so no head: partitions ${empty.join(', ')})`);
    const anchors = printed.flatMap((head) => ['--anchor', head]);
    expect(await run('verify', ...anchors)).toMatchObject({ code: EXIT_OK, stdout: expect.stringMatching(/^OK: /) });
  });

  // Without a count the import wrote 1 partition and refused the file: "import with LOG_PARTITIONS=3".
  it("given an export of 3 partitions and a fresh prefix, when it is imported with no count given, then it takes the end line's 3 and the prefix records them", async () => {
    const file = path.join(dir, 'backup-uncounted.jsonl');
    expect((await replay('export', '--out', file)).code).toBe(EXIT_OK);
    const target = `${restorePrefix}uncounted:`; // deleted with restorePrefix
    const run = (...args: string[]) => runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: target }, args);

    const imported = await run('import', '--in', file);

    expect(imported).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(await redis.get(logPartitionsKey(target))).toBe('3');
    expect(JSON.parse((await run('--json', 'verify')).stdout)).toMatchObject({ ok: true, events: KNOWN_EVENT_COUNT });
  });

  it('given an export of 3 partitions, when it is imported with another count given (--partitions or LOG_PARTITIONS), then it is refused naming the count to use', async () => {
    const file = path.join(dir, 'backup-miscounted.jsonl');
    expect((await replay('export', '--out', file)).code).toBe(EXIT_OK);
    const target = `${restorePrefix}miscounted:`; // deleted with restorePrefix
    const refusal = { code: EXIT_REFUSED, stdout: '', stderr: expect.stringContaining('import with LOG_PARTITIONS=3; nothing was written') };

    expect(await runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: target }, ['--partitions', '2', 'import', '--in', file])).toMatchObject(refusal);
    expect(await runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: target, LOG_PARTITIONS: '1' }, ['import', '--in', file])).toMatchObject(refusal);
    expect(await countKeysByPrefix(redis, target)).toBe(0);
  });

  it('given the known log spread over 3 partitions, when verified with LOG_PARTITIONS=3, then every event of every partition is checked and the log holds', async () => {
    const used = new Set(Object.values(KNOWN_MISSIONS).map((id) => keys.partitionOf(id)));
    expect(used.size).toBeGreaterThan(1);

    const verified = await replay('--json', 'verify');

    expect(verified.code).toBe(EXIT_OK);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, events: KNOWN_EVENT_COUNT });
  });

  it('given a mission outside partition 0, when its history is asked for, then the CLI finds it in its partition', async () => {
    const elsewhere = Object.values(KNOWN_MISSIONS).find((id) => keys.partitionOf(id) !== 0) ?? '';

    const history = await replay('--json', 'history', elsewhere);

    expect(history.code).toBe(EXIT_OK);
    expect((JSON.parse(history.stdout) as { missionId: string }).missionId).toBe(elsewhere);
  });

  // Without LOG_PARTITIONS the CLI read one partition of the three: most missions were "unknown".
  it('given the prefix records 3 partitions and no count is given, when history and verify run, then they read all 3', async () => {
    await redis.set(logPartitionsKey(prefix), '3');
    const run = (...args: string[]) => runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: prefix }, args);
    const elsewhere = Object.values(KNOWN_MISSIONS).find((id) => keys.partitionOf(id) !== 0) ?? '';

    expect(await run('--json', 'history', elsewhere)).toMatchObject({ code: EXIT_OK });
    expect(JSON.parse((await run('--json', 'verify')).stdout)).toMatchObject({ ok: true, events: KNOWN_EVENT_COUNT });
  });
});

describe('replay CLI on a prefix that records its LOG_PARTITIONS, as the services do (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-cli-recorded');
  const restorePrefix = testKeyPrefix('audit-cli-recorded-restore');
  let dir: string;

  const replayWith = (env: CliIo['env'], ...args: string[]) => runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: prefix, ...env }, args);
  const replay = (...args: string[]) => replayWith({}, ...args);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'replay-cli-recorded-'));
    await buildKnownLog(redis, new KeyLayout(prefix));
    await redis.set(logPartitionsKey(prefix), '1');
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await deleteKeysByPrefix(redis, restorePrefix);
    await rm(dir, { recursive: true, force: true });
    await redis.quit();
  });

  const mismatch = (given: number, recorded: number, on = prefix) =>
    expect.stringContaining(`--partitions (or LOG_PARTITIONS) is ${given}, but prefix "${on}" records LOG_PARTITIONS=${recorded}`);

  // verify --partitions 4 reported every event of the 1-partition log as misplaced, as if it had been tampered with.
  it('given another count, when verify runs, then it refuses naming both counts instead of reporting the log as misplaced', async () => {
    expect(await replay('--partitions', '4', 'verify')).toEqual({ code: EXIT_USAGE, stdout: '', stderr: mismatch(4, 1) });
    expect(await replay('--json', 'verify')).toMatchObject({ code: EXIT_OK, stdout: expect.stringContaining('"ok": true') });
    expect(await replay('--partitions', '1', 'verify')).toMatchObject({ code: EXIT_OK });
  });

  // history with LOG_PARTITIONS=4 looked in the wrong partition and said "unknown mission".
  it('given LOG_PARTITIONS of another count, when history runs, then it refuses naming both counts', async () => {
    expect(await replayWith({ LOG_PARTITIONS: '4' }, 'history', ok)).toEqual({ code: EXIT_USAGE, stdout: '', stderr: mismatch(4, 1) });
  });

  // export --partitions 2 wrote an end line claiming 2 partitions, which import --partitions 2 then took.
  it('given another count, when export runs, then it refuses and writes no file', async () => {
    const file = path.join(dir, 'two.jsonl');
    expect(await replay('--partitions', '2', 'export', '--out', file)).toEqual({ code: EXIT_USAGE, stdout: '', stderr: mismatch(2, 1) });
    await expect(readFile(file)).rejects.toThrow('ENOENT');
  });

  // import left config:log-partitions unwritten, so a service started on the imported prefix with another count was not stopped.
  it('given an export, when it is imported, then the prefix records the count it was imported with, which the CLI then holds to', async () => {
    const file = path.join(dir, 'backup.jsonl');
    expect((await replay('export', '--out', file)).code).toBe(EXIT_OK);
    expect(await replay('--prefix', restorePrefix, 'import', '--in', file)).toMatchObject({ code: EXIT_OK });

    expect(await redis.get(logPartitionsKey(restorePrefix))).toBe('1');
    expect(await replay('--prefix', restorePrefix, 'verify')).toMatchObject({ code: EXIT_OK });
    expect(await replay('--prefix', restorePrefix, '--partitions', '2', 'verify')).toMatchObject({ code: EXIT_USAGE, stderr: mismatch(2, 1, restorePrefix) });
  });
});

describe('replay CLI on stored text with control characters (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-cli-escape');
  const keys = new KeyLayout(prefix);
  const replay = (...args: string[]) => runReplayIn({ REDIS_URL: redisUrl(), KEY_PREFIX: prefix }, args);
  const title = 'Room 204\r\n  status      succeeded \u202Egnp.exe';
  const reason = 'done\u001b[2J\u001b]0;pwned\u0007\u009b31m';
  const missionId = 'm-escape';

  beforeAll(async () => {
    // Written straight to the store, as events from before the intake refused such text would be.
    const store = new MissionStore(redis, keys);
    const created = await store.append(missionId, null, decideCreate({ type: 'pricing', title, description: '', priority: 'low', payload: {} }), {
      actor: 'ops\u001b[8m',
    });
    if (created.code !== AppendCode.Ok) throw new Error('create failed');
    await store.transition(created.mission, (m) => decideCancel(m, reason), { actor: 'operator' });
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern.
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

  it('given a title with CR LF and a bidi override and a cancel reason with escape sequences, then history and state print them escaped, one row each', async () => {
    const history = await replay('history', missionId);
    expect(history.code).toBe(EXIT_OK);
    expect(history.stdout).not.toMatch(RAW);
    expect(history.stdout).toContain('cancelled: done\\u001b[2J\\u001b]0;pwned\\u0007\\u009b31m');
    expect(history.stdout).toContain('ops\\u001b[8m');
    expect(history.stdout).toContain('\\u202egnp.exe');
    expect(history.stdout.trimEnd().split('\n')).toHaveLength(1 + 2 + 3);

    const state = await replay('state', missionId);
    expect(state.stdout).not.toMatch(RAW);
    expect(state.stdout).toContain('Room 204\\r\\n  status      succeeded \\u202egnp.exe');
    expect(state.stdout.match(/^\s+status\s+/gm)).toHaveLength(1);
  });

  it('given --json, then the output has no raw control or bidi character and parses back to the stored text', async () => {
    const json = await replay('--json', 'state', missionId);
    expect(json.stdout).not.toMatch(RAW);
    expect(JSON.parse(json.stdout).state.title).toBe(title);
  });
});
