import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AppendCode, KeyLayout, MissionStore } from '@app/event-store';
import { GuestDataCipher, GuestDataKeys, MasterKeyRing, SubjectKeyCache, SubjectKeyStore } from '@app/guest-data';
import { decideCreate } from '@app/mission';
import { scanKeys } from '@app/redis';
import { logPartitionsKey } from '@app/runtime';
import {
  aCreate,
  buildKnownLog,
  deleteKeysByPrefix,
  KNOWN_EVENT_COUNT,
  knownStepTime,
  redisUrl,
  TEST_DATA_KEY_SECRET,
  testKeyPrefix,
  testRedis,
} from '@app/testing';
import { ensureBuilt } from '../../scripts/build-stamp';
import { EXIT_OK, EXIT_USAGE } from '../../scripts/replay';

/**
 * The move of a deployment off a legacy KEY_PREFIX (no closing `:`, as services took up to commit
 * 73b24b2), as docs/operations.md ("Upgrading from commit 73b24b2") gives it, with the built CLI
 * against the real Redis: export the old prefix, import under the new one, verify it, purge the
 * old; the keys of the prefixes the old one is the start of stay as they were.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const LOG_PARTITIONS = 2;
/** The known log, and the guest mission's create (MissionCreated, MissionQueued). */
const EVENTS = KNOWN_EVENT_COUNT + 2;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('replay: moving a deployment off a legacy prefix without its closing ":" (dist, real Redis)', () => {
  const redis = testRedis();
  // Every prefix of the test under one test prefix, which afterAll deletes whole.
  const base = testKeyPrefix('replay-legacy');
  const legacy = `${base}hotel`;
  const target = `${base}hotel:`;
  // Prefixes that `hotel` is the start of: a SCAN of `hotel*` would take their keys.
  const neighbours = [`${base}hotel-other:`, `${base}hotel2`];
  let dir: string;

  const replay = (args: string[]): Run => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: redisUrl(),
      REDIS_CLUSTER_NODES: '',
      LOG_PARTITIONS: '',
      DATA_KEY_SECRET: TEST_DATA_KEY_SECRET,
    };
    delete env.KEY_PREFIX; // the --prefix given, not the shell's
    const run = spawnSync(process.execPath, ['dist/scripts/replay.js', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  };
  const keysUnder = async (prefix: string): Promise<string[]> => {
    const found: string[] = [];
    for await (const keys of scanKeys(redis, `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`)) found.push(...keys);
    return found.sort();
  };
  const dumpAll = async (keys: string[]): Promise<(string | null)[]> =>
    Promise.all(keys.map(async (key) => (await redis.dumpBuffer(key))?.toString('hex') ?? null));

  /** What a deployment of the old build wrote under `prefix`: its log, read model, a guest's sealed data and key, its recorded partition count, the retention turn, a projection. */
  const writeDeployment = async (prefix: string): Promise<void> => {
    const keys = new KeyLayout(prefix, LOG_PARTITIONS);
    await redis.set(logPartitionsKey(prefix), String(LOG_PARTITIONS));
    await buildKnownLog(redis, keys);
    const cipher = new GuestDataCipher(
      new SubjectKeyStore(redis, new GuestDataKeys(prefix), MasterKeyRing.fromSecrets(TEST_DATA_KEY_SECRET), new SubjectKeyCache(0, 1)),
    );
    const [description] = await cipher.seal('m-guest', ['guest:4711'], [{ path: 'description', value: 'Anna asks for a late checkout' }]);
    const now = knownStepTime(40);
    const created = await new MissionStore(redis, keys).append('m-guest', null, decideCreate(aCreate({ description, subjects: ['guest:4711'] }), now), {
      actor: 'intake',
      now,
    });
    expect(created.code).toBe(AppendCode.Ok);
    await redis.set(keys.retentionTurn, 'intake-1', 'PX', 600_000);
    await redis.hset(keys.projection('daily-report', 'checkpoint'), keys.partitions[0].log, '0-1');
  };

  beforeAll(async () => {
    expect(ensureBuilt(ROOT)).toBe(0);
    dir = await mkdtemp(path.join(tmpdir(), 'replay-legacy-'));
    await writeDeployment(legacy);
    for (const prefix of neighbours) await writeDeployment(prefix);
  }, 180_000);

  afterAll(async () => {
    await deleteKeysByPrefix(redis, base);
    await rm(dir, { recursive: true, force: true });
    await redis.quit();
  });

  it('given the documented sequence, then export, import, verify and purge move the deployment and leave the neighbours alone', async () => {
    const file = path.join(dir, 'hotel.jsonl');
    const legacyKeys = (await keysUnder(legacy)).filter((key) => !neighbours.some((other) => key.startsWith(other)));
    expect(legacyKeys).toContain(`${legacy}{m0}:log`);
    expect(legacyKeys).toContain(`${legacy}config:log-partitions`);
    expect(legacyKeys).toContain(`${legacy}retention:turn`);
    const neighbourKeys = (await Promise.all(neighbours.map(keysUnder))).flat();
    const neighbourDump = await dumpAll(neighbourKeys);

    // 1. The old prefix exported (read-only), with a warning that it is a legacy one to move.
    const exported = replay(['--prefix', legacy, 'export', '--out', file]);
    expect(exported).toEqual({
      code: EXIT_OK,
      stdout: `Exported ${EVENTS} of ${EVENTS} events and 1 wrapped subject keys to ${file}.\n`,
      stderr: expect.stringMatching(new RegExp(`^replay: "${legacy}" is a legacy key prefix \\(no closing ":"\\).*purge "${legacy}"`)),
    });

    // 2. Imported under the new prefix, which ends with ":" (it takes the partition count the export names).
    const imported = replay(['--prefix', target, 'import', '--in', file]);
    expect(imported).toMatchObject({
      code: EXIT_OK,
      stderr: '',
      stdout: expect.stringContaining(`Imported ${EVENTS} events of 6 missions and 1 wrapped subject keys`),
    });
    expect(await redis.get(logPartitionsKey(target))).toBe(String(LOG_PARTITIONS));

    // 3. Verified there.
    expect(replay(['--prefix', target, 'verify'])).toMatchObject({ code: EXIT_OK, stderr: '' });

    // 4. The old prefix counted, then purged: its own keys only.
    expect(replay(['--prefix', legacy, 'purge'])).toEqual({
      code: EXIT_USAGE,
      stdout: '',
      stderr: expect.stringContaining(`replay: would delete ${legacyKeys.length} keys under prefix "${legacy}"; add --yes to delete them\n`),
    });
    const targetKeys = await keysUnder(target);
    const purged = replay(['--prefix', legacy, 'purge', '--yes']);
    expect(purged).toMatchObject({ code: EXIT_OK, stdout: `Deleted ${legacyKeys.length} keys under prefix "${legacy}".\n` });
    expect(purged.stderr).toContain('is a legacy key prefix');

    // Left: the new prefix's keys and the neighbours', byte for byte; nothing of the old prefix.
    expect((await keysUnder(base)).sort()).toEqual([...targetKeys, ...neighbourKeys].sort());
    expect(await dumpAll(neighbourKeys)).toEqual(neighbourDump);
    expect(replay(['--prefix', target, 'verify'])).toMatchObject({ code: EXIT_OK });
    expect(replay(['--prefix', target, 'history', 'm-guest'])).toMatchObject({ code: EXIT_OK, stdout: expect.stringContaining('MissionCreated') });
  });

  it('given a legacy prefix, then the commands that write or read by pattern still refuse it, naming how to move it', () => {
    for (const args of [['import', '--in', path.join(dir, 'none.jsonl')], ['verify'], ['rebuild']]) {
      expect(replay(['--prefix', `${base}spare`, ...args])).toEqual({
        code: EXIT_USAGE,
        stdout: '',
        stderr: expect.stringMatching(/refuses prefix ".*spare": a key prefix ends with ":".*legacy prefix like this one are moved with export and purge/),
      });
    }
  });
});
