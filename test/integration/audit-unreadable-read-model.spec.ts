import { KeyLayout, MISSION_HASH_FIELDS, MissionStore, UnreadableStoredDataError } from '@app/event-store';
import { buildKnownLog, deleteKeysByPrefix, KNOWN_MISSIONS, testKeyPrefix, testRedis } from '@app/testing';
import { EXIT_FINDINGS, EXIT_OK } from '../../scripts/replay';
import { runReplayCli, verifyFindingsCli } from '../support/replay-cli';

const { ok, cancel } = KNOWN_MISSIONS;

describe('replay on a read model changed past reading: a state that is no mission, a key of another type (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-unreadable-model');
  const keys = new KeyLayout(prefix);
  const store = new MissionStore(redis, keys);

  const replay = (...args: string[]) => runReplayCli(args, { KEY_PREFIX: prefix });
  const findings = () => verifyFindingsCli({ KEY_PREFIX: prefix });

  beforeAll(async () => {
    await buildKnownLog(redis, keys);
    expect((await replay('verify')).code).toBe(EXIT_OK);
    await redis.hset(keys.mission(ok), MISSION_HASH_FIELDS.state, 'not json');
    await redis.del(keys.mission(cancel));
    await redis.set(keys.mission(cancel), 'a string');
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given them, when the store loads those missions, then each is an UnreadableStoredDataError naming the mission and what is wrong', async () => {
    await expect(store.load(ok)).rejects.toThrow(new UnreadableStoredDataError(ok, 'its state in the read model (s) is not JSON'));
    await expect(store.load(cancel)).rejects.toThrow(
      new UnreadableStoredDataError(cancel, `its key ${keys.mission(cancel)} holds another type of value than a hash`),
    );
  });

  // verify exited 2 on WRONGTYPE, naming no key.
  it('given them, when verify runs, then the key of another type is a wrong-type finding naming it and the state is drift, exit 1', async () => {
    const { code, findings: found } = await findings();

    expect(code).toBe(EXIT_FINDINGS);
    expect(found).toContainEqual({
      kind: 'wrong-type',
      missionId: cancel,
      logId: '',
      detail: `the key ${keys.mission(cancel)} holds another type of value than a hash, which no service writes: nothing can read it`,
    });
    expect(found).toContainEqual(
      expect.objectContaining({ kind: 'read-model-drift', missionId: ok, detail: expect.stringContaining('s is not the JSON of an object') }),
    );
  });

  it('given them, when rebuild runs, then it writes the state again and names the key of another type, leaving it, exit 1; verify then names only that key', async () => {
    const run = await replay('rebuild');

    expect(run.code).toBe(EXIT_FINDINGS);
    expect(run.stdout).toContain(`Key ${keys.mission(cancel)} (mission ${cancel}) holds another type of value than a hash, left as it is`);
    expect(await store.load(ok)).toMatchObject({ id: ok, status: 'succeeded' });
    expect(await redis.type(keys.mission(cancel))).toBe('string');
    const after = await findings();
    expect(after.findings.map((finding) => `${finding.kind} ${finding.missionId}`)).toEqual([`wrong-type ${cancel}`]);
  });

  it('given the key of another type deleted, as the remedy says, when rebuild runs again, then it writes the mission whole from the log and verify passes', async () => {
    await redis.del(keys.mission(cancel));

    expect((await replay('rebuild')).code).toBe(EXIT_OK);

    expect(await store.load(cancel)).toMatchObject({ id: cancel, status: 'cancelled' });
    expect((await replay('verify')).code).toBe(EXIT_OK);
  });
});

describe("a mission's event list changed by hand into another Redis type (real Redis)", () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-unreadable-list');
  const keys = new KeyLayout(prefix);
  const store = new MissionStore(redis, keys);
  const replay = (...args: string[]) => runReplayCli(args, { KEY_PREFIX: prefix });
  const { wait } = KNOWN_MISSIONS;

  beforeAll(async () => {
    await buildKnownLog(redis, keys);
    await redis.del(keys.missionEvents(wait));
    await redis.set(keys.missionEvents(wait), 'a string');
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // A bare WRONGTYPE: the API answered 500 with a stack, history exited 2 naming no key.
  it('given it, when the store reads its events or counts them, then each is an UnreadableStoredDataError naming the list', async () => {
    const wrongType = new UnreadableStoredDataError(wait, `its key ${keys.missionEvents(wait)} holds another type of value than a list`);

    await expect(store.history(wait)).rejects.toThrow(wrongType);
    await expect(store.historyEntries(wait)).rejects.toThrow(wrongType);
    await expect(store.listedEvents(wait)).rejects.toThrow(wrongType);
  });

  it.each([['history'], ['state']])('given it, when %s runs, then it names the key and exits 1', async (command) => {
    const run = await replay(command, wait);

    expect(run.code).toBe(EXIT_FINDINGS);
    expect(run.stderr).toContain(
      `mission ${wait}: its key ${keys.missionEvents(wait)} holds another type of value than a list; nothing of it can be read (run verify)`,
    );
  });

  // It ended with exit 2 (bad input) and the store's words, as no finding.
  it('given it, when export --mission runs for the mission, then it names the key and exits 1, as history does', async () => {
    const run = await replay('export', '--mission', wait, '--out', '/dev/null');

    expect(run).toEqual({
      code: EXIT_FINDINGS,
      stdout: '',
      stderr: `replay: mission ${wait}: its key ${keys.missionEvents(wait)} holds another type of value than a list; nothing of it can be read (run verify)\n`,
    });
  });
});

describe('rebuild on a key of a whole partition changed by hand into another Redis type (real Redis)', () => {
  const redis = testRedis();
  const prefix = testKeyPrefix('audit-unreadable-partition');
  const keys = new KeyLayout(prefix);
  const store = new MissionStore(redis, keys);
  const replay = (...args: string[]) => runReplayCli(args, { KEY_PREFIX: prefix });
  const partition = keys.partitions[0];

  beforeEach(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await buildKnownLog(redis, keys);
  });

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  // rebuild exited 2 on a bare WRONGTYPE naming no key, while verify named it.
  it.each([
    ['the mission index', partition.missionIndex, 'sorted set'],
    ['the dead-letter queue', partition.deadLetters, 'sorted set'],
    ['the status counters', partition.statusCounts, 'hash'],
    ['the ready queue', partition.ready, 'sorted set'],
  ])(
    'given %s replaced by a string, when rebuild runs, then it names the key, leaves the partition as it is, exit 1; deleted, the next rebuild mends it',
    async (_name, key, type) => {
      await redis.hset(keys.mission(ok), MISSION_HASH_FIELDS.state, 'not json');
      await redis.multi().del(key).set(key, 'a string').exec();

      const run = await replay('rebuild');

      expect(run.code).toBe(EXIT_FINDINGS);
      expect(run.stdout).toContain(
        `Key ${key} (its partition's, whose read model is left as it is) holds another type of value than a ${type}, left as it is: look at it, delete it (DEL), and run rebuild again`,
      );
      expect(await redis.get(key)).toBe('a string');
      await expect(store.load(ok)).rejects.toThrow(UnreadableStoredDataError);
      const json = JSON.parse((await replay('--json', 'rebuild')).stdout) as { wrongType: unknown[] };
      expect(json.wrongType).toEqual([{ missionId: '', key, expected: type }]);

      await redis.del(key);
      expect((await replay('rebuild')).code).toBe(EXIT_OK);
      expect(await store.load(ok)).toMatchObject({ id: ok, status: 'succeeded' });
      expect((await replay('verify')).code).toBe(EXIT_OK);
    },
  );
  // A per-skill-set ready queue was not asked its TYPE: the effects restored for a mission whose hash
  // was deleted met it, and rebuild exited 2 naming no key.
  it("given the ready queue of a queued mission's skill set replaced by a string and that mission's hash deleted, when rebuild runs, then it names the key, exit 1", async () => {
    const skills = await redis.hget(keys.mission(KNOWN_MISSIONS.wait), MISSION_HASH_FIELDS.skillSet);
    expect(await redis.hkeys(partition.readyBySkills)).toContain(skills);
    const key = partition.readyWithSkillsPrefix + (skills ?? '');
    await redis.del(keys.mission(KNOWN_MISSIONS.wait));
    await redis.multi().del(key).set(key, 'a string').exec();

    const run = await replay('--json', 'rebuild');

    expect(run.code).toBe(EXIT_FINDINGS);
    expect((JSON.parse(run.stdout) as { wrongType: unknown[] }).wrongType).toEqual([{ missionId: '', key, expected: 'sorted set' }]);
    expect(await redis.get(key)).toBe('a string');
  });
});
