import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Environment } from '@app/config';
import { ERASED_MARKER, GuestDataErrorCode, MissionPersonalData } from '@app/guest-data';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { personalDataOf } from './personal-data-of';

describe('personalDataOf: the key cache of a process', () => {
  const redis = testRedisConnection('personal-data-of-spec');
  const prefixes: string[] = [];
  const envOf = (overrides: Partial<Environment>): Environment => {
    const env = Object.assign(new Environment(), { DATA_KEY_SECRET: randomBytes(32).toString('base64url') }, overrides);
    prefixes.push(env.KEY_PREFIX);
    return env;
  };
  const reply = { path: 'output.reply', value: 'Dear Anna, your late check-out is booked.' };
  /** A field sealed for guest:anna of mission m-1, opened once by each reader so that each holds the key. */
  const sealedAndRead = async (sealer: MissionPersonalData, readers: readonly MissionPersonalData[]) => {
    const [token] = await sealer.cipher.seal('m-1', ['guest:anna'], [reply]);
    for (const reader of readers) expect(await reader.cipher.open('m-1', [{ path: reply.path, value: token }])).toEqual([reply.value]);
    return token;
  };

  afterAll(async () => {
    await Promise.all(prefixes.map((prefix) => deleteKeysByPrefix(redis, prefix)));
    await redis.quit();
  });

  it('given no master key configured, when the first service starts, then it says once where it generated the local one and to back it up', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'brain-data-key-'));
    const written = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const env = envOf({ KEY_PREFIX: testKeyPrefix('personal-data-of'), DATA_KEY_SECRET: undefined });
      personalDataOf(redis, env, dataDir);
      personalDataOf(redis, env, dataDir);

      const file = join(dataDir, 'data-key');
      expect(existsSync(file)).toBe(true);
      const said = written.mock.calls.map(([text]) => String(text)).filter((text) => text.includes('master key'));
      expect(said).toEqual([expect.stringContaining(`generated a local master key (kept in ${file}). Back it up with the Redis data`)]);
    } finally {
      written.mockRestore();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('given the services of one process, when one erases a subject, then the others read its fields as erased at once', async () => {
    const env = envOf({ KEY_PREFIX: testKeyPrefix('personal-data-of') });
    const [intake, evaluator] = [personalDataOf(redis, env), personalDataOf(redis, env)];
    const token = await sealedAndRead(intake, [evaluator]);

    expect(await intake.cipher.erase('guest:anna')).toBe(true);

    // With a cache of its own the evaluator would still open it for DATA_KEY_CACHE_TTL_MS.
    expect(await evaluator.cipher.open('m-1', [{ path: reply.path, value: token }])).toEqual([ERASED_MARKER]);
  });

  it('given another key prefix or another master key in the same process, then it never opens with a key cached for the first', async () => {
    const first = envOf({ KEY_PREFIX: testKeyPrefix('personal-data-of') });
    const otherPrefix = envOf({ KEY_PREFIX: testKeyPrefix('personal-data-of'), DATA_KEY_SECRET: first.DATA_KEY_SECRET });
    const otherMasterKey = envOf({ KEY_PREFIX: first.KEY_PREFIX });
    const token = await sealedAndRead(personalDataOf(redis, first), []);
    const field = { path: reply.path, value: token };

    // A shared cache would open the field for both: the other prefix has no such key, and the other master key cannot unwrap it.
    expect(await personalDataOf(redis, otherPrefix).cipher.open('m-1', [field])).toEqual([ERASED_MARKER]);
    await expect(personalDataOf(redis, otherMasterKey).cipher.open('m-1', [field])).rejects.toMatchObject({ code: GuestDataErrorCode.WrongMasterKey });
  });
});
