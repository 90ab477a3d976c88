import { INestApplication } from '@nestjs/common';
import { loadEnvironment } from '@app/config';
import { createServiceApp, keyLayoutOf } from '@app/runtime';
import { deleteKeysByPrefix, redisTarget, testKeyPrefix, testRedisConnection } from '@app/testing';
import { evaluatorService } from '../../apps/evaluator/src/evaluator.definition';

describe('LOG_PARTITIONS guard (real Redis)', () => {
  const prefix = testKeyPrefix('partitions-guard');
  const redis = testRedisConnection('partitions-guard');
  const apps: INestApplication[] = [];
  const start = async (partitions: number) => {
    const app = await createServiceApp(
      evaluatorService,
      loadEnvironment({ ...redisTarget(), KEY_PREFIX: prefix, LOG_PARTITIONS: String(partitions), LOG_LEVEL: 'silent' }),
    );
    apps.push(app);
    await app.init();
  };

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close().catch(() => undefined)));
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a deployment set up with 3 partitions, when a process starts with another LOG_PARTITIONS, then it refuses to start and names both values', async () => {
    await start(3);

    await expect(start(4)).rejects.toThrow('LOG_PARTITIONS=4, but this KEY_PREFIX was set up with LOG_PARTITIONS=3');
    // Refused before its stream consumer started: it used to create the fourth partition's stream and group first.
    const wrongLayout = keyLayoutOf(loadEnvironment({ ...redisTarget(), KEY_PREFIX: prefix, LOG_PARTITIONS: '4' }));
    expect(await redis.exists(wrongLayout.partitions[3].stream('evaluator'))).toBe(0);
    await expect(start(3)).resolves.toBeUndefined();
  });
});
