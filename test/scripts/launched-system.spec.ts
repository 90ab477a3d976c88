import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { launchBuiltSystem } from '../support/launched-system';

/**
 * The test helper that launches the built services: a launch that never gets ready must not hang
 * for its whole timeout, leave processes behind for the next suite, or fail without saying why.
 */
describe('launchBuiltSystem', () => {
  const prefix = testKeyPrefix('launch-failure');
  const redis = testRedisConnection('launched-system-spec');
  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given a service that stops at start (a bad API_KEYS), then it rejects at once with the exit, the services not ready and their last output', async () => {
    const started = Date.now();
    const error = await launchBuiltSystem({ KEY_PREFIX: prefix, API_KEYS: 'not-a-key-entry' }, { oneProcess: false }).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    // It used to wait the full minute for readiness, and leave the other three services running.
    expect(error?.message).toMatch(
      /^the services exited \(code 78\) before every one was ready; not ready: intake, orchestrator, executor, evaluator; their last output:/,
    );
    expect(error?.message).toMatch(/API_KEYS/);
    expect(Date.now() - started).toBeLessThan(45_000);
  }, 120_000);
});
