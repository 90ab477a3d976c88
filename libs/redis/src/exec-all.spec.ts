import { testKeyPrefix, testRedisConnection } from '@app/testing';
import { execAll } from './exec-all';
import { deleteKeysByPrefix } from './key-scan';

describe('execAll (real Redis)', () => {
  const redis = testRedisConnection('exec-all-spec');
  const prefix = testKeyPrefix('exec-all');

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a pipeline, then its replies come back in order', async () => {
    expect(await execAll(redis.pipeline().set(`${prefix}a`, '1').incr(`${prefix}a`).get(`${prefix}a`))).toEqual(['OK', 2, '2']);
  });

  it('given a command that fails, then the error is thrown, not returned as a reply', async () => {
    await redis.set(`${prefix}text`, 'not a number');
    await expect(execAll(redis.pipeline().get(`${prefix}text`).incr(`${prefix}text`))).rejects.toThrow(/not an integer/);
  });
});
