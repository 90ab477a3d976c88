import { testKeyPrefix, testRedisConnection } from '@app/testing';
import { countKeysByPrefix, deleteKeysByPrefix, escapeGlob, scanKeys } from './key-scan';

describe('key scans by prefix', () => {
  const redis = testRedisConnection('key-scan-spec');
  let prefix: string;

  beforeEach(() => {
    prefix = testKeyPrefix('key-scan');
  });

  afterEach(async () => {
    await deleteKeysByPrefix(redis, prefix);
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('given more keys than one SCAN call returns, then scanKeys follows the cursor and yields each key once', async () => {
    const keys = Array.from({ length: 60 }, (_, index) => `${prefix}k${index}`);
    await Promise.all(keys.map((key) => redis.set(key, '1')));

    const batches: string[][] = [];
    // COUNT 5: a single SCAN call sees a few of the 60 keys at most.
    for await (const batch of scanKeys(redis, `${escapeGlob(prefix)}*`, 5)) batches.push(batch);

    expect(batches.length).toBeGreaterThan(1);
    expect(new Set(batches.flat())).toEqual(new Set(keys));
  });

  it('counts only the keys that start with the prefix, even when the prefix holds glob characters', async () => {
    const globby = `${prefix}[a]*?:`;
    await Promise.all([`${globby}1`, `${globby}2`, `${prefix}a:1`].map((key) => redis.set(key, '1')));

    await expect(countKeysByPrefix(redis, globby)).resolves.toBe(2);
    await expect(countKeysByPrefix(redis, prefix)).resolves.toBe(3);
  });

  it('refuses an empty prefix, which would match every key', async () => {
    await expect(countKeysByPrefix(redis, '')).rejects.toThrow(/non-empty prefix/);
    await expect(deleteKeysByPrefix(redis, '')).rejects.toThrow(/non-empty prefix/);
  });
});
