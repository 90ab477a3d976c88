import { countKeysByPrefix } from '@app/redis';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { EXIT_OK, EXIT_USAGE } from '../../scripts/replay';
import { runReplayCli } from '../support/replay-cli';

/** `replay purge` in-process against the test Redis. */
const replay = (args: string[]) => runReplayCli(args);

describe('replay purge (real Redis, a private prefix)', () => {
  const redis = testRedisConnection('purge-cli-spec');
  let prefix: string;
  let lookalike: string;

  beforeEach(async () => {
    prefix = testKeyPrefix('purge-cli');
    // Differs from the prefix only in its last character, so a match one character too loose would take it.
    lookalike = `${prefix.slice(0, -1)}X:{m0}:log`;
    // More keys than one SCAN call returns, spread over hash tags (and so over masters on a cluster).
    const keys = Array.from({ length: 1_500 }, (_, index) => `${prefix}{m${index % 7}}:k${index}`);
    await Promise.all([...keys, lookalike].map((key) => redis.set(key, '1')));
  });

  afterEach(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.unlink(lookalike, `${prefix.slice(0, -1)}{m0}:log`, `${prefix.slice(0, -1)}config:log-partitions`);
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('given no --yes, then it says how many keys it would delete, deletes none and exits 2', async () => {
    const result = await replay(['--prefix', prefix, 'purge']);

    expect(result).toEqual({ code: EXIT_USAGE, stdout: '', stderr: `replay: would delete 1500 keys under prefix "${prefix}"; add --yes to delete them\n` });
    expect(await countKeysByPrefix(redis, prefix)).toBe(1_500);
  });

  it('given --yes (after the command, with --prefix there too), then every key of the prefix goes and nothing else', async () => {
    const result = await replay(['purge', '--prefix', prefix, '--yes']);

    expect(result).toEqual({ code: EXIT_OK, stdout: `Deleted 1500 keys under prefix "${prefix}".\n`, stderr: '' });
    expect(await countKeysByPrefix(redis, prefix)).toBe(0);
    expect(await redis.exists(lookalike)).toBe(1);
  });

  it('given a prefix without its closing ":", then only the keys a deployment under that legacy prefix wrote go, not those of prefixes it starts', async () => {
    // `…purge-cli:<hex>` is the start of `…purge-cli:<hex>:` and of the lookalike's `…purge-cli:<hex>X:`: a SCAN of
    // `…purge-cli:<hex>*` would take both; its own keys are `…purge-cli:<hex>{…}` (and two fixed names).
    const legacy = prefix.slice(0, -1);
    await redis.set(`${legacy}{m0}:log`, '1');
    await redis.set(`${legacy}config:log-partitions`, '1');

    const result = await replay(['purge', '--prefix', legacy, '--yes']);

    expect(result).toEqual({
      code: EXIT_OK,
      stdout: `Deleted 2 keys under prefix "${legacy}".\n`,
      stderr: expect.stringMatching(/^replay: "test:purge-cli:[0-9a-f]+" is a legacy key prefix \(no closing ":"\)/),
    });
    expect(await redis.exists(`${legacy}{m0}:log`, `${legacy}config:log-partitions`)).toBe(0);
    expect(await countKeysByPrefix(redis, prefix)).toBe(1_500);
    expect(await redis.exists(lookalike)).toBe(1);
  });

  it('given an empty KEY_PREFIX, then it refuses instead of purging the default prefix', async () => {
    const result = await runReplayCli(['purge', '--yes'], { KEY_PREFIX: '' });

    expect(result).toMatchObject({ code: EXIT_USAGE, stdout: '', stderr: expect.stringContaining('purge refuses prefix ""') });
  });

  it('given --json, then the count comes as JSON', async () => {
    const result = await replay(['--json', '--prefix', prefix, 'purge', '--yes']);
    expect(result.code).toBe(EXIT_OK);
    expect(JSON.parse(result.stdout)).toEqual({ prefix, deleted: 1_500 });
  });
});
