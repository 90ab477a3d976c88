import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyLayout } from '@app/event-store';
import { GuestDataCipher, GuestDataKeys, MasterKeyRing, SubjectKeyCache, SubjectKeyStore } from '@app/guest-data';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { WebhookKeys, WebhookSubscriptions } from '@app/webhooks';
import { EXIT_NO_LOG, EXIT_NOT_REWRAPPED, EXIT_OK, EXIT_USAGE } from '../../scripts/replay';
import { runReplayCli } from '../support/replay-cli';

/** `replay rewrap-keys` in-process against the test Redis, with the given master key variables. */
const replay = (env: Record<string, string>, args: string[]) => runReplayCli(args, env);

describe('replay rewrap-keys (master key rotation, real Redis)', () => {
  const redis = testRedisConnection('rewrap-keys-cli-spec');
  const prefix = testKeyPrefix('rewrap-keys-cli');
  const keys = new GuestDataKeys(prefix);
  const oldSecret = randomBytes(32).toString('base64url');
  const newSecret = randomBytes(32).toString('base64url');
  const cipherWith = (ring: MasterKeyRing) => new GuestDataCipher(new SubjectKeyStore(redis, keys, ring, new SubjectKeyCache(0, 1)));

  afterAll(async () => {
    await deleteKeysByPrefix(redis, prefix);
    await redis.quit();
  });

  it('given keys under the old master key, when rewrapped with the new one current, then only the new one is needed, and a second run has nothing to do', async () => {
    const sealed = await cipherWith(MasterKeyRing.fromSecrets(oldSecret)).seal('m-1', ['guest:1'], [{ path: 'payload.message', value: 'hello' }]);
    await cipherWith(MasterKeyRing.fromSecrets(oldSecret)).seal('m-2', ['guest:2'], [{ path: 'payload.message', value: 'hi' }]);
    const field = [{ path: 'payload.message', value: sealed[0] }];

    const withoutOld = await replay({ KEY_PREFIX: prefix, DATA_KEY_SECRET: newSecret }, ['rewrap-keys']);
    expect(withoutOld.code).toBe(EXIT_NOT_REWRAPPED);
    expect(withoutOld.stderr).toMatch(/wrapped under master key mk-[0-9a-f]{16}, which is not configured/);

    const run = await replay({ KEY_PREFIX: prefix, DATA_KEY_SECRET: newSecret, DATA_KEY_PREVIOUS_SECRETS: oldSecret }, ['--json', 'rewrap-keys']);
    expect(run.code).toBe(EXIT_OK);
    const newRing = MasterKeyRing.fromSecrets(newSecret);
    expect(JSON.parse(run.stdout)).toEqual({
      masterKey: newRing.current.id,
      rewrapped: 2,
      current: 0,
      changed: 0,
      notConfigured: [],
      webhookSecrets: { rewrapped: 0, current: 0, changed: 0, notConfigured: [] },
    });
    expect(await cipherWith(newRing).open('m-1', field)).toEqual(['hello']);

    const again = await replay({ KEY_PREFIX: prefix, DATA_KEY_SECRET: newSecret }, ['rewrap-keys']);
    expect(again.code).toBe(EXIT_OK);
    expect(again.stdout).toMatch(/rewrapped\s+0\n/);
    expect(again.stdout).toMatch(/already under it\s+2\n/);
  });

  it('given webhook signing secrets sealed under the old master key or stored in plain, when rewrapped, then the new key alone opens them', async () => {
    const webhookPrefix = testKeyPrefix('rewrap-keys-cli-webhooks');
    const webhookKeys = new WebhookKeys(new KeyLayout(webhookPrefix));
    const subscriptionsWith = (ring: MasterKeyRing) => new WebhookSubscriptions(redis, webhookKeys, ring);
    try {
      const input = { url: 'https://hooks.example.com/', eventTypes: ['mission.finished'], description: '' };
      const sealed = await subscriptionsWith(MasterKeyRing.fromSecrets(oldSecret)).create(input, 'test');
      const plain = await subscriptionsWith(MasterKeyRing.fromSecrets(oldSecret)).create(input, 'test');
      await redis.hset(webhookKeys.secrets, plain.subscription.id, JSON.stringify([{ secret: plain.secret, until: null }]));

      const run = await replay({ KEY_PREFIX: webhookPrefix, DATA_KEY_SECRET: newSecret, DATA_KEY_PREVIOUS_SECRETS: oldSecret }, ['rewrap-keys']);
      expect(run.code).toBe(EXIT_OK);
      expect(run.stdout).toMatch(/webhook secrets rewrapped\s+2\n/);
      const newOnly = subscriptionsWith(MasterKeyRing.fromSecrets(newSecret));
      expect(await newOnly.secretsInForce(sealed.subscription.id)).toEqual([sealed.secret]);
      expect(await newOnly.secretsInForce(plain.subscription.id)).toEqual([plain.secret]);
      expect(JSON.stringify(await redis.hgetall(webhookKeys.secrets))).not.toContain('whsec_');
    } finally {
      await deleteKeysByPrefix(redis, webhookPrefix);
    }
  });

  // It stopped at the first key it could not unwrap, with exit 2 and one line: keys after it, and every webhook secret, were never reached.
  it('given keys under master keys A and B and one under C, when rewrapped with D current and only B previous, then every key under B is rewrapped, those under A and C are named with their master key, and it exits 6', async () => {
    const mixed = testKeyPrefix('rewrap-keys-cli-mixed');
    const [a, b, c, d] = [1, 2, 3, 4].map(() => randomBytes(32).toString('base64url'));
    const [ringA, ringB, ringC] = [a, b, c].map((secret) => MasterKeyRing.fromSecrets(secret));
    const storeWith = (ring: MasterKeyRing) => new SubjectKeyStore(redis, new GuestDataKeys(mixed), ring, new SubjectKeyCache(0, 1));
    const subscriptionsWith = (ring: MasterKeyRing) => new WebhookSubscriptions(redis, new WebhookKeys(new KeyLayout(mixed)), ring);
    try {
      await storeWith(ringA).keysFor(['guest:a']);
      await storeWith(ringB).keysFor(['guest:b1', 'guest:b2', 'guest:b3']);
      const [underC] = await storeWith(ringC).keysFor(['guest:c']);
      const [underA] = [...(await storeWith(ringA).existingKeys(['guest:a'])).values()];
      const input = { url: 'https://hooks.example.com/', eventTypes: ['mission.finished'], description: '' };
      const hookB = await subscriptionsWith(ringB).create(input, 'test');
      const hookC = await subscriptionsWith(ringC).create(input, 'test');

      const run = await replay({ KEY_PREFIX: mixed, DATA_KEY_SECRET: d, DATA_KEY_PREVIOUS_SECRETS: b }, ['rewrap-keys']);

      expect(run.code).toBe(EXIT_NOT_REWRAPPED);
      expect(run.stdout).toMatch(/\brewrapped\s+3\n/);
      expect(run.stdout).toMatch(/^ {2}under a master key not configured \(left alone\)\s+2$/m);
      expect(run.stdout).toMatch(/webhook secrets rewrapped\s+1\n/);
      expect(run.stdout).toMatch(/webhook secrets under a master key not configured \(left alone\)\s+1\n/);
      const stderr = run.stderr.split('\n').filter(Boolean).sort();
      expect(stderr).toEqual(
        [
          `replay: not rewrapped: the data key ${underA.kid} of subject guest:a is wrapped under master key ${ringA.current.id}, which is not configured`,
          `replay: not rewrapped: the data key ${underC.kid} of subject guest:c is wrapped under master key ${ringC.current.id}, which is not configured`,
          `replay: not rewrapped: the signing secret of webhook subscription ${hookC.subscription.id} is wrapped under master key ${ringC.current.id}, which is not configured`,
          expect.stringMatching(/^replay: 3 keys not rewrapped: list the master keys named above in DATA_KEY_PREVIOUS_SECRETS/),
        ].sort(),
      );
      const onlyD = new MasterKeyRing(MasterKeyRing.fromSecrets(d).current);
      expect((await storeWith(onlyD).existingKeys(['guest:b1', 'guest:b2', 'guest:b3'])).size).toBe(3);
      expect(await subscriptionsWith(onlyD).secretsInForce(hookB.subscription.id)).toEqual([hookB.secret]);
      expect((await storeWith(ringA).existingKeys(['guest:a'])).get('guest:a')?.key).toEqual(underA.key);
      expect(await subscriptionsWith(ringC).secretsInForce(hookC.subscription.id)).toEqual([hookC.secret]);

      const json = await replay({ KEY_PREFIX: mixed, DATA_KEY_SECRET: d, DATA_KEY_PREVIOUS_SECRETS: b }, ['--json', 'rewrap-keys']);
      expect(json.code).toBe(EXIT_NOT_REWRAPPED);
      expect(JSON.parse(json.stdout)).toMatchObject({
        current: 3,
        notConfigured: expect.arrayContaining([
          { owner: 'guest:a', kid: underA.kid, mk: ringA.current.id },
          { owner: 'guest:c', kid: underC.kid, mk: ringC.current.id },
        ]),
        webhookSecrets: { current: 1, notConfigured: [{ owner: hookC.subscription.id, mk: ringC.current.id }] },
      });
    } finally {
      await deleteKeysByPrefix(redis, mixed);
    }
  });

  // It reported "rewrapped 0, already under it 0" and exit 0, which rotation's last step reads as "drop the old key".
  it('given a prefix with no key records (a mistyped one), when rewrap-keys runs, then it says none were found and exits 3', async () => {
    const empty = testKeyPrefix('rewrap-keys-cli-none');
    const run = await replay({ KEY_PREFIX: empty, DATA_KEY_SECRET: newSecret }, ['rewrap-keys']);
    expect(run).toEqual({
      code: EXIT_NO_LOG,
      stdout: '',
      stderr: `replay: nothing to rewrap: no data subject's key records under prefix "${empty}"; check --prefix\n`,
    });
    const json = await replay({ KEY_PREFIX: empty, DATA_KEY_SECRET: newSecret }, ['--json', 'rewrap-keys']);
    expect(json.code).toBe(EXIT_NO_LOG);
    expect(JSON.parse(json.stdout)).toMatchObject({ rewrapped: 0, current: 0, changed: 0 });
  });

  it('given no DATA_KEY_SECRET or DATA_KEY_FILE, when rewrap-keys runs, then it refuses and names them, and the keys stay as they were', async () => {
    const sealed = await cipherWith(MasterKeyRing.fromSecrets(oldSecret)).seal('m-3', ['guest:3'], [{ path: 'payload.message', value: 'hey' }]);
    const empty = testKeyPrefix('rewrap-keys-cli-empty');
    const envs: Record<string, string>[] = [{ KEY_PREFIX: prefix }, { KEY_PREFIX: empty, DATA_KEY_PREVIOUS_SECRETS: oldSecret }];
    for (const env of envs) {
      const run = await replay(env, ['rewrap-keys']);
      expect(run.code).toBe(EXIT_USAGE);
      expect(run.stderr).toMatch(/set DATA_KEY_SECRET or DATA_KEY_FILE/);
    }
    expect(await cipherWith(MasterKeyRing.fromSecrets(oldSecret)).open('m-3', [{ path: 'payload.message', value: sealed[0] }])).toEqual(['hey']);
  });

  // The CLI took DATA_KEY_SECRET and ignored the file, a pair every service refuses to start with.
  it('given both DATA_KEY_SECRET and DATA_KEY_FILE, when rewrap-keys runs, then it refuses them as the services do, with exit 2, and the keys stay as they were', async () => {
    const sealed = await cipherWith(MasterKeyRing.fromSecrets(oldSecret)).seal('m-4', ['guest:4'], [{ path: 'payload.message', value: 'hello' }]);
    const dir = mkdtempSync(join(tmpdir(), 'brain-rewrap-both-'));
    try {
      const file = join(dir, 'data-key');
      writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
      const run = await replay({ KEY_PREFIX: prefix, DATA_KEY_SECRET: newSecret, DATA_KEY_FILE: file, DATA_KEY_PREVIOUS_SECRETS: oldSecret }, ['rewrap-keys']);
      expect(run).toEqual({ code: EXIT_USAGE, stdout: '', stderr: 'replay: the master key: set DATA_KEY_SECRET or DATA_KEY_FILE, not both\n' });
      expect(await cipherWith(MasterKeyRing.fromSecrets(oldSecret)).open('m-4', [{ path: 'payload.message', value: sealed[0] }])).toEqual(['hello']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
