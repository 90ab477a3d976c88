import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import Redis from 'ioredis';
import {
  exportLog,
  ExportFilter,
  ImportKeysProblem,
  ImportKeysRefusedError,
  importLog,
  ImportRefusedError,
  readExportEndLine,
  SUBJECT_KEY_LINE,
  verifyLog,
} from '@app/audit';
import { AppendCode, KeyLayout, MISSION_HASH_FIELDS, MissionStore } from '@app/event-store';
import { ERASED_MARKER, GuestDataCipher, GuestDataKeys, MasterKeyRing, SubjectKeyCache, SubjectKeyStore } from '@app/guest-data';
import { decideCreate } from '@app/mission';
import { countKeysByPrefix } from '@app/redis';
import { aCreate, deleteKeysByPrefix, knownStepTime, redisUrl, testKeyPrefix, testRedis } from '@app/testing';
import { CliIo, EXIT_OK, EXIT_REFUSED, runReplay } from '../../scripts/replay';

const GUEST = 'guest:4711';
const MISSION = 'm-guest';
const NAME = 'Anna Schmidt';
const OTHER = 'guest:other';
const MESSAGE = 'Anna asks for a late checkout at 14:00';

/** The end line of the source's export made with --no-keys: its three events, no key line, and the filter that says so. */
const NO_KEYS_END_LINE = {
  kind: 'export-end',
  events: 3,
  subjectKeys: 0,
  partitions: 1,
  heads: [expect.stringMatching(/^[0-9a-f]{40}$/)],
  filter: { keys: false },
};

/** A secret of 43 random characters, as `openssl rand -base64 32` would give. */
const aSecret = (): string => randomBytes(32).toString('base64url');

function cipherFor(redis: Redis, prefix: string, secret: string): GuestDataCipher {
  // No cache: every open reads the key store of its prefix, as a fresh process would.
  return new GuestDataCipher(new SubjectKeyStore(redis, new GuestDataKeys(prefix), MasterKeyRing.fromSecrets(secret), new SubjectKeyCache(0, 1)));
}

async function exportText(redis: Redis, keys: KeyLayout, filter: ExportFilter = {}): Promise<string> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await exportLog(redis, keys, sink, filter);
  return Buffer.concat(chunks).toString('utf8');
}

/** The guest's name and message as the mission at `keys` holds them, decrypted with `cipher`. */
async function personalFields(redis: Redis, keys: KeyLayout, cipher: GuestDataCipher): Promise<unknown[]> {
  const state = JSON.parse((await redis.hget(keys.mission(MISSION), MISSION_HASH_FIELDS.state)) ?? '{}') as {
    description: string;
    payload: { guest: { name: string } };
  };
  return cipher.open(MISSION, [
    { path: 'payload.guest.name', value: state.payload.guest.name },
    { path: 'description', value: state.description },
  ]);
}

describe('export and import of guest data: ciphertext and wrapped subject keys (real Redis)', () => {
  const redis = testRedis();
  const secret = aSecret();
  const prefixes: string[] = [];
  const freshKeys = (name: string): KeyLayout => {
    const prefix = testKeyPrefix(`audit-keys-${name}`);
    prefixes.push(prefix);
    return new KeyLayout(prefix);
  };
  let source: KeyLayout;
  let exported: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'export-keys-'));
    source = freshKeys('source');
    const cipher = cipherFor(redis, source.prefix, secret);
    const [name, description] = await cipher.seal(
      MISSION,
      [GUEST],
      [
        { path: 'payload.guest.name', value: NAME },
        { path: 'description', value: MESSAGE },
      ],
    );
    const now = knownStepTime(1);
    const input = aCreate({ description, payload: { guest: { id: 4711, name } }, subjects: [GUEST] });
    const store = new MissionStore(redis, source);
    const created = await store.append(MISSION, null, decideCreate(input, now), { actor: 'intake', now });
    if (created.code !== AppendCode.Ok) throw new Error(`create: code ${created.code}`);
    const cancelled = await store.append(MISSION, created.mission, [{ type: 'MissionCancelled', data: { reason: 'guest left' } }], { actor: 'intake', now });
    expect(cancelled.code).toBe(AppendCode.Ok);
    // A subject erased before the export: its key is gone, so the export carries none for it.
    await cipher.seal('m-other', ['guest:erased'], [{ path: 'description', value: 'gone' }]);
    await cipher.erase('guest:erased');
    // Another guest's key, sealed for a create never appended: no event of the log names it, so no export carries it.
    await cipher.seal('m-other', [OTHER], [{ path: 'description', value: 'someone else' }]);
    exported = await exportText(redis, source);
  });

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysByPrefix(redis, prefix);
    await rm(dir, { recursive: true, force: true });
    await redis.quit();
  });

  it('exports the events first, then the wrapped keys, and no plaintext of the guest nor the data key', async () => {
    const lines = exported.trimEnd().split('\n');
    expect(JSON.parse(lines[0])).toMatchObject({ type: 'MissionCreated', missionId: MISSION });
    const stored = JSON.parse((await redis.hget(new GuestDataKeys(source.prefix).subjectKeys(GUEST), GUEST)) ?? '{}') as Record<string, unknown>;
    expect(JSON.parse(lines[3])).toEqual({ kind: SUBJECT_KEY_LINE, subject: GUEST, ...stored });
    expect(lines.filter((line) => line.includes(`"kind":"${SUBJECT_KEY_LINE}"`))).toHaveLength(1);
    expect(exported).not.toContain(OTHER);
    expect(exported).not.toContain('Anna');
    expect(exported).not.toContain('late checkout');
    const dataKey = (await cipherFor(redis, source.prefix, secret).store.existingKeys([GUEST])).get(GUEST)?.key;
    expect(dataKey).toBeDefined();
    for (const encoding of ['hex', 'base64', 'base64url'] as const) expect(exported).not.toContain(dataKey?.toString(encoding));
  });

  it('given an import into a new prefix with the same master key, then the fields decrypt there and verify passes', async () => {
    const copy = freshKeys('same-key');
    const result = await importLog(redis, copy, Readable.from([exported]), undefined, { masterKeys: () => MasterKeyRing.fromSecrets(secret) });
    expect(result).toMatchObject({ events: 3, missions: 1, keys: 1, unreplayable: [] });
    expect(await personalFields(redis, copy, cipherFor(redis, copy.prefix, secret))).toEqual([NAME, MESSAGE]);
    // The indexes an erasure and retention read are there as in the source.
    const [from, to] = [source.partitions[0], copy.partitions[0]];
    expect(await redis.smembers(to.subjectMissions(GUEST))).toEqual([MISSION]);
    expect(await redis.smembers(from.subjectMissions(GUEST))).toEqual([]);
    expect(await redis.zrange(to.retention('guest_support'), 0, -1, 'WITHSCORES')).toEqual([MISSION, String(knownStepTime(1).getTime())]);
    expect(await verifyLog(redis, copy)).toMatchObject({ ok: true, findings: [] });
    // Exported again, the copy gives the same file, keys included.
    expect(await exportText(redis, copy)).toBe(exported);
  });

  // The import scored retention by the mission's last event: an erasure of a co-subject after the finish restarted its clock.
  it('given a co-subject erased after the mission finished, when exported and imported, then retention still counts from the finish', async () => {
    const origin = freshKeys('erased-after-finish');
    const cipher = cipherFor(redis, origin.prefix, secret);
    const [description] = await cipher.seal('m-shared', [GUEST, OTHER], [{ path: 'description', value: 'Anna and Ben share room 12' }]);
    const [createdAt, finishedAt, erasedAt] = [knownStepTime(1), knownStepTime(2), knownStepTime(9)];
    const store = new MissionStore(redis, origin);
    const created = await store.append('m-shared', null, decideCreate(aCreate({ description, subjects: [GUEST, OTHER] }), createdAt), {
      actor: 'intake',
      now: createdAt,
    });
    if (created.code !== AppendCode.Ok) throw new Error(`create: code ${created.code}`);
    const cancelled = await store.append('m-shared', created.mission, [{ type: 'MissionCancelled', data: { reason: 'guest left' } }], {
      actor: 'intake',
      now: finishedAt,
    });
    if (cancelled.code !== AppendCode.Ok) throw new Error(`cancel: code ${cancelled.code}`);
    await cipher.erase(OTHER);
    const erased = await store.append('m-shared', cancelled.mission, [{ type: 'SubjectErased', data: { subjectId: OTHER, reason: 'guest asked' } }], {
      actor: 'operator',
      now: erasedAt,
    });
    expect(erased.code).toBe(AppendCode.Ok);

    const copy = freshKeys('erased-after-finish-copy');
    await importLog(redis, copy, Readable.from([await exportText(redis, origin)]), undefined, { masterKeys: () => MasterKeyRing.fromSecrets(secret) });

    expect(await redis.zrange(copy.partitions[0].retention('guest_support'), 0, -1, 'WITHSCORES')).toEqual(['m-shared', String(finishedAt.getTime())]);
  });

  it('given --mission, then only the keys of its subjects follow the events', async () => {
    const lines = (await exportText(redis, source, { mission: MISSION })).trimEnd().split('\n');
    const named = lines.map((line) => JSON.parse(line) as { subject?: string; kind?: string });
    expect(named.map((line) => line.subject ?? line.kind ?? 'event')).toEqual(['event', 'event', 'event', GUEST, 'export-end']);
  });

  // --from, --to and --type wrote every guest's key into the file: a time-range extract carried guests it holds nothing of.
  it('given an export filtered by time or type, then only the keys of the subjects its events are about follow them, as with --mission', async () => {
    const prefix = freshKeys('filtered');
    const cipher = cipherFor(redis, prefix.prefix, secret);
    const store = new MissionStore(redis, prefix);
    const createFor = async (missionId: string, subject: string, step: number) => {
      const [description] = await cipher.seal(missionId, [subject], [{ path: 'description', value: `message of ${subject}` }]);
      const now = knownStepTime(step);
      const created = await store.append(missionId, null, decideCreate(aCreate({ description, subjects: [subject] }), now), { actor: 'intake', now });
      if (created.code !== AppendCode.Ok) throw new Error(`create ${missionId}: code ${created.code}`);
      return created.mission;
    };
    const early = await createFor('m-early', GUEST, 1);
    const cancelledAt = knownStepTime(2);
    expect(
      (await store.append('m-early', early, [{ type: 'MissionCancelled', data: { reason: 'guest left' } }], { actor: 'intake', now: cancelledAt })).code,
    ).toBe(AppendCode.Ok);
    await createFor('m-late', OTHER, 5);
    // A key no event of the log names (sealed for a create that was never appended).
    await cipher.seal('m-never', ['guest:unlogged'], [{ path: 'description', value: 'never stored' }]);
    const subjectsOf = async (filter: ExportFilter): Promise<string[]> =>
      (await exportText(redis, prefix, filter))
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { kind?: string; subject?: string })
        .filter((line) => line.kind === SUBJECT_KEY_LINE)
        .map((line) => line.subject ?? '');

    expect(await subjectsOf({ from: knownStepTime(5) })).toEqual([OTHER]);
    expect(await subjectsOf({ to: knownStepTime(5) })).toEqual([GUEST]);
    // The cancellation alone: its mission's create is not in the file, and its subject still is.
    expect(await subjectsOf({ type: 'MissionCancelled' })).toEqual([GUEST]);
    expect(await subjectsOf({ type: 'MissionCancelled', from: knownStepTime(3) })).toEqual([]);
    expect(await subjectsOf({ mission: 'm-late' })).toEqual([OTHER]);
    expect(await subjectsOf({})).toEqual([GUEST, OTHER]);
  });

  it('given a subject erased while the export reads the log, then the export carries no key for it, so no import can read its data', async () => {
    const prefix = freshKeys('erased-meanwhile');
    const cipher = cipherFor(redis, prefix.prefix, secret);
    const [name] = await cipher.seal('m-late', ['guest:late'], [{ path: 'payload.guest.name', value: NAME }]);
    const store = new MissionStore(redis, prefix);
    const now = knownStepTime(1);
    const created = await store.append('m-late', null, decideCreate(aCreate({ payload: { guest: { id: 'late', name } }, subjects: ['guest:late'] }), now), {
      actor: 'intake',
      now,
    });
    expect(created.code).toBe(AppendCode.Ok);
    const chunks: string[] = [];
    let erased = false;
    // highWaterMark 1: the export waits for each chunk, so the erasure lands after the log is read and before the export ends.
    const sink = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString('utf8'));
        if (erased) return callback();
        erased = true;
        cipher.erase('guest:late').then(() => callback(), callback);
      },
    });
    const result = await exportLog(redis, prefix, sink);
    expect(erased).toBe(true);
    expect(result).toMatchObject({ exported: 2, keys: 0 });
    expect(chunks.join('')).not.toContain(SUBJECT_KEY_LINE);
  });

  it('given a rotated deployment that keeps the exporting key as a previous one, then the import is accepted', async () => {
    const copy = freshKeys('rotated');
    const ring = MasterKeyRing.fromSecrets(aSecret(), [secret]);
    await importLog(redis, copy, Readable.from([exported]), undefined, { masterKeys: () => ring });
    expect(
      await personalFields(redis, copy, new GuestDataCipher(new SubjectKeyStore(redis, new GuestDataKeys(copy.prefix), ring, new SubjectKeyCache(0, 1)))),
    ).toEqual([NAME, MESSAGE]);
  });

  it('given another master key, then the import is refused naming both master key ids, and nothing is written', async () => {
    const target = freshKeys('other-key');
    const other = MasterKeyRing.fromSecrets(aSecret());
    const refusal = importLog(redis, target, Readable.from([exported]), undefined, { masterKeys: () => other });
    await expect(refusal).rejects.toBeInstanceOf(ImportKeysRefusedError);
    await expect(refusal).rejects.toMatchObject({ problem: ImportKeysProblem.UnknownMasterKey });
    const exportingKey = MasterKeyRing.fromSecrets(secret).current.id;
    await expect(refusal).rejects.toThrow(
      new RegExp(`wrapped under master key ${exportingKey}, which is not configured here \\(configured: ${other.current.id}\\).*nothing was written`),
    );
    expect(await countKeysByPrefix(redis, target.prefix)).toBe(0);
  });

  it('given no master key, then an export with keys is refused, and nothing is written', async () => {
    const target = freshKeys('no-key');
    await expect(importLog(redis, target, Readable.from([exported]))).rejects.toMatchObject({ problem: ImportKeysProblem.NoMasterKey });
    expect(await countKeysByPrefix(redis, target.prefix)).toBe(0);
  });

  // An export made with --no-keys imported as a backup: every personal field read [erased], though no one erased the guest,
  // and its unfinished missions were queued to run on that.
  it('given an export made without keys, then its end line says so, and the import refuses it as an extract and writes nothing', async () => {
    const ciphertextOnly = await exportText(redis, source, { keys: false });
    expect(ciphertextOnly).not.toContain(SUBJECT_KEY_LINE);
    expect(JSON.parse(ciphertextOnly.trimEnd().split('\n').pop() ?? '')).toEqual(NO_KEYS_END_LINE);
    const target = freshKeys('without-keys');

    const refusal = importLog(redis, target, Readable.from([ciphertextOnly]), undefined, { masterKeys: () => MasterKeyRing.fromSecrets(secret) });

    await expect(refusal).rejects.toBeInstanceOf(ImportRefusedError);
    await expect(refusal).rejects.toThrow(
      "refusing to import: the export was made with --no-keys: it holds none of the guests' data keys, so no one can read their data from it " +
        "(every personal field would read [erased], and unfinished missions would run on that): an extract without the guests' keys and not a " +
        'backup to restore; make a backup with replay export without --no-keys; nothing was written',
    );
    expect(await countKeysByPrefix(redis, target.prefix)).toBe(0);
  });

  it('given an export made without keys before end lines recorded it, then the import refuses it for its guests never erased, and writes nothing', async () => {
    const lines = (await exportText(redis, source, { keys: false })).trimEnd().split('\n');
    const { filter: _recorded, ...oldEnd } = JSON.parse(lines.pop() ?? '') as Record<string, unknown>;
    const target = freshKeys('without-keys-old');
    const options = { masterKeys: () => MasterKeyRing.fromSecrets(secret) };

    for (const file of [[...lines, JSON.stringify(oldEnd)], lines]) {
      const refusal = importLog(redis, target, Readable.from([`${file.join('\n')}\n`]), undefined, { ...options, acceptMissingEnd: true });
      await expect(refusal).rejects.toThrow(
        /^refusing to import: the export names 1 data subject that no SubjectErased erased and holds no subject key line \(an export made with --no-keys before end lines recorded that\): .*make a backup with replay export without --no-keys; nothing was written$/,
      );
      expect(await countKeysByPrefix(redis, target.prefix)).toBe(0);
    }
  });

  it('given a whole export whose every guest was erased, then it holds no key and imports, the fields erased there as in the source', async () => {
    const origin = freshKeys('all-erased');
    const cipher = cipherFor(redis, origin.prefix, secret);
    const [description] = await cipher.seal('m-gone', [GUEST], [{ path: 'description', value: MESSAGE }]);
    const now = knownStepTime(1);
    const store = new MissionStore(redis, origin);
    const created = await store.append('m-gone', null, decideCreate(aCreate({ description, subjects: [GUEST] }), now), { actor: 'intake', now });
    if (created.code !== AppendCode.Ok) throw new Error(`create: code ${created.code}`);
    await cipher.erase(GUEST);
    const erased = await store.append(
      'm-gone',
      created.mission,
      [
        { type: 'SubjectErased', data: { subjectId: GUEST, reason: 'guest asked' } },
        { type: 'MissionCancelled', data: { reason: 'guest erased' } },
      ],
      { actor: 'operator', now },
    );
    expect(erased.code).toBe(AppendCode.Ok);
    const whole = await exportText(redis, origin);
    expect(whole).not.toContain(SUBJECT_KEY_LINE);
    const copy = freshKeys('all-erased-copy');

    expect(await importLog(redis, copy, Readable.from([whole]))).toMatchObject({ events: 4, keys: 0 });

    const state = JSON.parse((await redis.hget(copy.mission('m-gone'), MISSION_HASH_FIELDS.state)) ?? '{}') as { description: string };
    expect(await cipherFor(redis, copy.prefix, secret).open('m-gone', [{ path: 'description', value: state.description }])).toEqual([ERASED_MARKER]);
  });

  it('given a wrapped key altered under the right master key id, then the import is refused before writing', async () => {
    const target = freshKeys('altered');
    const altered = exported
      .split('\n')
      .map((line) => {
        if (!line.includes(`"subject":"${GUEST}"`)) return line;
        const record = JSON.parse(line) as { wrapped: string };
        const flipped = Buffer.from(record.wrapped, 'base64url');
        flipped[20] ^= 1;
        return JSON.stringify({ ...record, wrapped: flipped.toString('base64url') });
      })
      .join('\n');
    const refusal = importLog(redis, target, Readable.from([altered]), undefined, { masterKeys: () => MasterKeyRing.fromSecrets(secret) });
    await expect(refusal).rejects.toMatchObject({ problem: ImportKeysProblem.DoesNotUnwrap });
    await expect(refusal).rejects.toThrow(/data key of subject guest:4711 does not unwrap: .*altered/);
    expect(await countKeysByPrefix(redis, target.prefix)).toBe(0);
  });

  it('given an export made with the keys first, then it imports as well; keys both before and after the events stop the import naming the line', async () => {
    // Such an export had no end line either.
    const lines = exported.trimEnd().split('\n').slice(0, -1);
    const [events, keyLines] = [lines.slice(0, 3), lines.slice(3)];
    const keysFirst = `${[...keyLines, ...events].join('\n')}\n`;
    const copy = freshKeys('keys-first');
    const options = { masterKeys: () => MasterKeyRing.fromSecrets(secret), acceptMissingEnd: true };
    expect(await importLog(redis, copy, Readable.from([keysFirst]), undefined, options)).toMatchObject({
      events: 3,
      keys: 1,
    });
    expect(await personalFields(redis, copy, cipherFor(redis, copy.prefix, secret))).toEqual([NAME, MESSAGE]);

    const both = `${[keyLines[0], ...events, keyLines[0]].join('\n')}\n`;
    await expect(importLog(redis, freshKeys('keys-both'), Readable.from([both]), undefined, options)).rejects.toThrow(
      /line 5 is a subject key after the events, and keys came before them too/,
    );
  });

  it('given keys after the events under another master key, then the events written meanwhile are removed again', async () => {
    const target = freshKeys('undo');
    const refusal = importLog(redis, target, Readable.from([exported]), undefined, { masterKeys: () => MasterKeyRing.fromSecrets(aSecret()) });
    await expect(refusal).rejects.toMatchObject({ problem: ImportKeysProblem.UnknownMasterKey });
    expect(await countKeysByPrefix(redis, target.prefix)).toBe(0);
    // The prefix is as empty as before: the right key imports there.
    expect(await importLog(redis, target, Readable.from([exported]), undefined, { masterKeys: () => MasterKeyRing.fromSecrets(secret) })).toMatchObject({
      events: 3,
    });
  });

  describe('replay CLI', () => {
    const run = async (env: CliIo['env'], args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runReplay(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env });
      return { code, stdout, stderr };
    };

    it('given another DATA_KEY_SECRET, then import exits 2 with a message naming the master keys, and writes nothing', async () => {
      const file = path.join(dir, 'backup.jsonl');
      const out = await run({ REDIS_URL: redisUrl(), KEY_PREFIX: source.prefix }, ['export', '--out', file]);
      expect(out).toMatchObject({ code: EXIT_OK, stdout: expect.stringContaining('3 of 3 events and 1 wrapped subject keys') });

      const target = freshKeys('cli-other');
      const refused = await run({ REDIS_URL: redisUrl(), KEY_PREFIX: target.prefix, DATA_KEY_SECRET: aSecret() }, ['import', '--in', file]);
      expect(refused.code).toBe(EXIT_REFUSED);
      expect(refused.stderr).toMatch(
        /^replay: refusing to import: 1 of the export's 1 data keys are wrapped under master key mk-[0-9a-f]{16}, which is not configured here/,
      );
      expect(await countKeysByPrefix(redis, target.prefix)).toBe(0);

      const accepted = await run({ REDIS_URL: redisUrl(), KEY_PREFIX: target.prefix, DATA_KEY_SECRET: secret }, ['import', '--in', file]);
      expect(accepted).toMatchObject({ code: EXIT_OK, stdout: expect.stringContaining('3 events of 1 missions and 1 wrapped subject keys') });
      expect(await personalFields(redis, target, cipherFor(redis, target.prefix, secret))).toEqual([NAME, MESSAGE]);
    });

    it('given another DATA_KEY_SECRET and a file that breaks off after its first event, then the key refusal comes first and nothing is written', async () => {
      const file = path.join(dir, 'broken.jsonl');
      const lines = exported.trimEnd().split('\n');
      const keyLines = lines.filter((line) => line.includes(`"kind":"${SUBJECT_KEY_LINE}"`));
      writeFileSync(file, `${[lines[0], '{"truncated', ...keyLines].join('\n')}\n`);
      const target = freshKeys('cli-broken');
      const refused = await run({ REDIS_URL: redisUrl(), KEY_PREFIX: target.prefix, DATA_KEY_SECRET: aSecret() }, ['import', '--in', file]);
      // The keys used to be read only after the events: the import stopped at line 2 with the
      // first event written, and a partial prefix left behind for a file it could never import.
      expect(refused.code).toBe(EXIT_REFUSED);
      expect(refused.stderr).toMatch(/^replay: refusing to import: .* not configured here/);
      expect(await countKeysByPrefix(redis, target.prefix)).toBe(0);
    });

    // Such a file imported with exit 0: every personal field read [erased] and its unfinished missions were queued to run on that.
    it('given --no-keys, then the file holds no key line, says so, and import refuses it with exit 5 writing nothing; a whole export imports', async () => {
      const file = path.join(dir, 'no-keys.jsonl');
      const out = await run({ REDIS_URL: redisUrl(), KEY_PREFIX: source.prefix }, ['export', '--no-keys', '--out', file]);
      expect(out).toMatchObject({
        code: EXIT_OK,
        stdout: `Exported 3 of 3 events to ${file} without the guests' data keys (--no-keys): an extract, which import refuses.\n`,
      });
      expect(await readExportEndLine(file)).toEqual(NO_KEYS_END_LINE);
      const target = freshKeys('cli-no-keys');

      const refused = await run({ REDIS_URL: redisUrl(), KEY_PREFIX: target.prefix, DATA_KEY_SECRET: secret }, ['import', '--in', file]);

      expect(refused).toEqual({
        code: EXIT_REFUSED,
        stdout: '',
        stderr:
          `replay: ${file}: refusing to import: the export was made with --no-keys: it holds none of the guests' data keys, so no one can read ` +
          "their data from it (every personal field would read [erased], and unfinished missions would run on that): an extract without the guests' " +
          'keys and not a backup to restore; make a backup with replay export without --no-keys; nothing was written\n',
      });
      expect(await countKeysByPrefix(redis, target.prefix)).toBe(0);

      const backup = path.join(dir, 'whole.jsonl');
      expect((await run({ REDIS_URL: redisUrl(), KEY_PREFIX: source.prefix }, ['export', '--out', backup])).code).toBe(EXIT_OK);
      const restored = await run({ REDIS_URL: redisUrl(), KEY_PREFIX: target.prefix, DATA_KEY_SECRET: secret }, ['import', '--in', backup]);
      expect(restored).toMatchObject({ code: EXIT_OK, stdout: expect.stringContaining('3 events of 1 missions and 1 wrapped subject keys') });
      expect(await personalFields(redis, target, cipherFor(redis, target.prefix, secret))).toEqual([NAME, MESSAGE]);
    });
  });
});
