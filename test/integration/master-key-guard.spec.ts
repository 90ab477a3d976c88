import { INestApplication } from '@nestjs/common';
import { loadEnvironment } from '@app/config';
import { GuestDataKeys, MasterKeyRing, SubjectKeyCache, SubjectKeyStore } from '@app/guest-data';
import { createServiceApp, MasterKeyMismatchError } from '@app/runtime';
import { deleteKeysByPrefix, redisTarget, TEST_DATA_KEY_SECRET, testKeyPrefix, testRedisConnection } from '@app/testing';
import { intakeService } from '../../apps/intake/src/intake.definition';

/** The master key the deployment rotated to; TEST_DATA_KEY_SECRET is the old one. */
const ROTATED_SECRET = 'rotated-master-key-for-guest-data-9876543210';

describe('master key guard (real Redis)', () => {
  const prefix = testKeyPrefix('master-key-guard');
  const redis = testRedisConnection('master-key-guard');
  const apps: INestApplication[] = [];
  const start = async (dataKeys: Record<string, string>) => {
    const app = await createServiceApp(
      intakeService,
      loadEnvironment({ ...redisTarget(), KEY_PREFIX: prefix, LOG_LEVEL: 'silent', API_KEYS: 'ops:master-key-guard-secret-0001:operator', ...dataKeys }),
    );
    apps.push(app);
    await app.init();
  };
  const [rotated, old] = [ROTATED_SECRET, TEST_DATA_KEY_SECRET].map((secret) => MasterKeyRing.fromSecrets(secret).current.id);

  beforeAll(async () => {
    // A deployment after its rotation: every subject's data key wrapped under the new master key.
    const store = new SubjectKeyStore(redis, new GuestDataKeys(prefix), MasterKeyRing.fromSecrets(ROTATED_SECRET), new SubjectKeyCache(0, 1));
    await store.keysFor(Array.from({ length: 40 }, (_, index) => `guest:${index}`));
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close().catch(() => undefined)));
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given data keys wrapped under a master key the process lacks, when it starts, then it refuses, naming both key ids and the variables', async () => {
    const refusal = start({ DATA_KEY_SECRET: TEST_DATA_KEY_SECRET });

    await expect(refusal).rejects.toBeInstanceOf(MasterKeyMismatchError);
    await expect(refusal).rejects.toThrow(
      `wrapped under master key ${rotated}, which is not configured (configured: ${old}): ` +
        'set DATA_KEY_SECRET/DATA_KEY_FILE to it, or list it in DATA_KEY_PREVIOUS_SECRETS/DATA_KEY_PREVIOUS_FILES',
    );
  });

  it('given the key the data keys are wrapped under, current or previous, then it starts', async () => {
    await expect(start({ DATA_KEY_SECRET: ROTATED_SECRET })).resolves.toBeUndefined();
    await expect(start({ DATA_KEY_SECRET: TEST_DATA_KEY_SECRET, DATA_KEY_PREVIOUS_SECRETS: ROTATED_SECRET })).resolves.toBeUndefined();
  });
});
