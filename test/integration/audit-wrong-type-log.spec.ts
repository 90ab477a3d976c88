import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyLayout, MISSION_HASH_FIELDS, MissionStore } from '@app/event-store';
import { buildKnownLog, deleteKeysByPrefix, KNOWN_MISSIONS, testKeyPrefix, testRedis } from '@app/testing';
import { EXIT_FINDINGS, EXIT_OK } from '../../scripts/replay';
import { runReplayCli, verifyFindingsCli } from '../support/replay-cli';

/** The known log over two partitions, as the CLI reads it with LOG_PARTITIONS=2. */
const PARTITIONS = 2;

// A log or a log head changed by hand into another Redis type stopped verify and rebuild with exit 2
// and Redis's own words (WRONGTYPE …, or `hash.slice is not a function` for the head), naming no key.
describe('verify, rebuild, history, state and export on a log or a log head of another Redis type (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-wrong-type-log');
  const keys = new KeyLayout(prefix, PARTITIONS);
  const store = new MissionStore(redis, keys);
  const env = { KEY_PREFIX: prefix, LOG_PARTITIONS: String(PARTITIONS) };
  const replay = (...args: string[]) => runReplayCli(args, env);
  /** A known mission of each partition. */
  const [first, second] = [0, 1].map((index) => Object.values(KNOWN_MISSIONS).find((id) => keys.partitionOf(id) === index) ?? '');

  beforeEach(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await buildKnownLog(redis, keys);
    expect({ first, second }).toEqual({ first: expect.stringMatching(/^m-/), second: expect.stringMatching(/^m-/) });
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  const dir = mkdtempSync(join(tmpdir(), 'audit-wrong-type-log-'));
  /** How history, state and export name a log of another type: verify's words, and what it stops. */
  const logNamed = (log: string, consequence: string) =>
    `the key ${log} holds another type of value than a stream, which no service writes: nothing can read it; it is the event log of partition 0, so ${consequence} ` +
    '(run verify; docs/operations.md, "When replay verify fails", wrong-type)';

  // They ended with exit 2 (bad input) and Redis's bare WRONGTYPE, naming no key.
  it.each([['history'], ['state']])(
    "given a partition's log replaced by a hash, when %s runs on a mission of it, then it names the log and the type it must be, exit 1; one of the other partition reads as before",
    async (command) => {
      const log = keys.partitions[0].log;
      await redis.multi().del(log).hset(log, 'forged', 'by hand').exec();

      const run = await replay(command, first);

      expect(run).toEqual({ code: EXIT_FINDINGS, stdout: '', stderr: `replay: ${logNamed(log, `no event of mission ${first} can be read`)}\n` });
      expect((await replay(command, second)).code).toBe(EXIT_OK);
    },
  );

  it.each([[[]], [['--mission', second]]])(
    "given a partition's log replaced by a string, when export %j runs, then it names the log and writes no file, exit 1",
    async (filter: string[]) => {
      const log = keys.partitions[0].log;
      await redis.multi().del(log).set(log, 'a string').exec();
      const out = join(dir, 'export.jsonl');

      const run = await replay('export', '--out', out, ...filter);

      expect(run).toEqual({ code: EXIT_FINDINGS, stdout: '', stderr: `replay: ${logNamed(log, 'its events cannot be exported: nothing was written')}\n` });
      expect(existsSync(out)).toBe(false);
    },
  );

  // What they read is the log itself: a log head of another type is verify's and rebuild's to name, and an export is the way to a new prefix.
  it("given a partition's log head replaced by a hash, when history, state and export run, then each reads the log as before, exit 0", async () => {
    const head = keys.partitions[0].logHead;
    await redis.multi().del(head).hset(head, 'forged', 'by hand').exec();

    expect((await replay('history', first)).code).toBe(EXIT_OK);
    expect((await replay('state', first)).code).toBe(EXIT_OK);
    expect((await replay('export', '--out', join(dir, 'head.jsonl'))).code).toBe(EXIT_OK);
  });

  it("given a partition's log replaced by a string, when verify runs, then it names the log as wrong-type and verifies the other partition, exit 1", async () => {
    const log = keys.partitions[0].log;
    await redis.multi().del(log).set(log, 'a string').exec();
    await redis.hset(keys.mission(second), MISSION_HASH_FIELDS.state, 'not json');

    const { code, findings } = await verifyFindingsCli(env);

    expect(code).toBe(EXIT_FINDINGS);
    expect(findings).toEqual([
      {
        kind: 'wrong-type',
        missionId: '',
        logId: '',
        detail: `partition 0: the key ${log} holds another type of value than a stream, which no service writes: nothing can read it; no event of its partition can be read, so nothing of the partition was verified`,
      },
      expect.objectContaining({ kind: 'read-model-drift', missionId: second, detail: expect.stringMatching(/^partition 1: s is not the JSON of an object/) }),
    ]);
  });

  it("given a partition's log replaced by a string, when rebuild runs, then it names the log and leaves that partition as it is, rebuilds the other, exit 1", async () => {
    const log = keys.partitions[0].log;
    await redis.multi().del(log).set(log, 'a string').exec();
    await redis.hset(keys.mission(first), MISSION_HASH_FIELDS.state, 'forged');
    await redis.hset(keys.mission(second), MISSION_HASH_FIELDS.state, 'not json');

    const run = await replay('--json', 'rebuild');

    expect(run.code).toBe(EXIT_FINDINGS);
    expect(JSON.parse(run.stdout)).toMatchObject({ wrongType: [{ missionId: '', key: log, expected: 'stream' }], switched: 1 });
    expect(await redis.get(log)).toBe('a string');
    expect(await redis.hget(keys.mission(first), MISSION_HASH_FIELDS.state)).toBe('forged');
    expect(await store.load(second)).toMatchObject({ id: second });
    expect((await replay('rebuild')).stdout).toContain(
      `Key ${log} (its partition's, whose read model is left as it is) holds another type of value than a stream, left as it is: look at it; ` +
        `it is the partition's event log, which no tool writes again: restore the last export that verifies (docs/operations.md, "When replay verify fails")`,
    );
  });

  it("given a partition's log head replaced by a hash, when verify and rebuild run, then each names it, exit 1; set back to the head verify prints, both pass", async () => {
    const head = keys.partitions[0].logHead;
    await redis.multi().del(head).hset(head, 'forged', 'by hand').exec();

    const verified = await replay('--json', 'verify');

    expect(verified.code).toBe(EXIT_FINDINGS);
    const { findings, heads } = JSON.parse(verified.stdout) as { findings: unknown[]; heads: string[] };
    expect(findings).toEqual([
      {
        kind: 'wrong-type',
        missionId: '',
        logId: '',
        detail: `partition 0: the key ${head} holds another type of value than a string, which no service writes: nothing can read it; it vouches for no event, and every append to its partition fails on it`,
      },
    ]);
    const rebuilt = await replay('rebuild');
    expect(rebuilt.code).toBe(EXIT_FINDINGS);
    expect(rebuilt.stdout).toContain(
      `Key ${head} (its partition's, whose read model is left as it is) holds another type of value than a string, left as it is: look at it, ` +
        'then set it (SET) to the log head of partition 0 that verify prints, and run rebuild again; deleted, the next append would link to no event',
    );
    expect(await redis.hgetall(head)).toEqual({ forged: 'by hand' });

    await redis.multi().del(head).set(head, heads[0]).exec();

    expect((await replay('verify')).code).toBe(EXIT_OK);
    expect((await replay('rebuild')).code).toBe(EXIT_OK);
  });
});
