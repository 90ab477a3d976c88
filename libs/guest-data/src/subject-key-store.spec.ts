import { randomBytes } from 'node:crypto';
import { deleteKeysByPrefix, testKeyPrefix, testRedisConnection } from '@app/testing';
import { parseToken, SealedToken } from './field-envelope';
import { ERASED_MARKER, GuestDataCipher } from './guest-data-cipher';
import { GuestDataError, GuestDataErrorCode } from './guest-data-error';
import { GuestDataKeys } from './guest-data-keys';
import { MasterKeyRing } from './master-key-ring';
import { SubjectKeyCache } from './subject-key-cache';
import { SUBJECT_KEY_MAKE_ATTEMPTS, SubjectKeyContendedError, SubjectKeyStore } from './subject-key-store';

const secret = () => randomBytes(32).toString('base64url');

function sealedToken(token: string, missionId: string): SealedToken {
  const parsed = parseToken(token, missionId);
  if (parsed.kind !== 'sealed') throw new Error(`${token} is a group's member, not a sealed token`);
  return parsed;
}

describe('subject keys in Redis and the guest data cipher', () => {
  const redis = testRedisConnection('subject-key-store-spec');
  let keys: GuestDataKeys;
  let ring: MasterKeyRing;
  const storeOf = (withRing = ring, cache = new SubjectKeyCache(60_000, 100)) => new SubjectKeyStore(redis, keys, withRing, cache);

  beforeEach(() => {
    keys = new GuestDataKeys(testKeyPrefix('subject-keys'));
    ring = MasterKeyRing.fromSecrets(secret());
  });
  afterEach(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('given two processes making the same subject key at once, then both use the one key stored (HSETNX), wrapped, never in plain', async () => {
    const [a, b] = await Promise.all([storeOf().keysFor(['guest:anna']), storeOf().keysFor(['guest:anna'])]);
    expect(a[0].kid).toBe(b[0].kid);
    expect(a[0].key.equals(b[0].key)).toBe(true);
    const stored = await redis.hget(keys.subjectKeys('guest:anna'), 'guest:anna');
    expect(JSON.parse(stored ?? '{}')).toEqual({ kid: a[0].kid, wrapped: expect.any(String), mk: ring.current.id, createdAt: expect.any(String) });
    expect(stored).not.toContain(a[0].key.toString('base64url'));
    expect(keys.subjectKeyHashes).toContain(keys.subjectKeys('guest:anna'));
  });

  it("given a mission's own subject (made without a read first), when two processes make it, then both use the one key stored", async () => {
    const [first] = await storeOf().keysFor(['mission:m-1']);
    const [second] = await storeOf().keysFor(['mission:m-1']);
    expect(second.kid).toBe(first.kid);
    expect(second.key.equals(first.key)).toBe(true);
  });

  it("given another process's key for the subject, when an erasure destroys it between this process's HSETNX and its read, then a new key is made, not an error", async () => {
    let otherKid: string | undefined;
    // The interleaving of a create racing DELETE /api/subjects: another process makes the key just
    // before this one's HSETNX, which loses, and the erasure destroys it before this one reads it.
    const racing = new Proxy(redis, {
      get(target, property, receiver) {
        if (property !== 'hsetnx') return Reflect.get(target, property, receiver) as unknown;
        return async (hash: string, field: string, value: string) => {
          if (otherKid === undefined) {
            otherKid = (await storeOf().keysFor([field]))[0].kid;
            const set = await target.hsetnx(hash, field, value);
            await target.hdel(hash, field);
            return set;
          }
          return target.hsetnx(hash, field, value);
        };
      },
    });
    // It threw "made and destroyed at the same moment; try again", a 500 to the create.
    const [made] = await new SubjectKeyStore(racing, keys, ring, new SubjectKeyCache(60_000, 100)).keysFor(['guest:anna']);
    expect(otherKid).toEqual(expect.any(String));
    expect(made.kid).not.toBe(otherKid);
    expect(JSON.parse((await redis.hget(keys.subjectKeys('guest:anna'), 'guest:anna')) ?? '{}')).toMatchObject({ kid: made.kid });
  });

  it("given the subject's key erased each time another process made it, then make gives up after a bounded number of tries with a clear error", async () => {
    let tries = 0;
    // Every HSETNX loses to another process's key, and every read finds it erased already.
    const erasing = new Proxy(redis, {
      get(target, property, receiver) {
        if (property === 'hsetnx') {
          return async () => {
            tries += 1;
            // The old loop never ended: stop it here so the test fails instead of hanging.
            if (tries > 100) throw new Error('still trying after 100 HSETNX');
            return 0;
          };
        }
        if (property === 'hget') return async () => null;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const store = new SubjectKeyStore(erasing, keys, ring, new SubjectKeyCache(60_000, 100));
    const refused = store.keysFor(['guest:anna']);
    await expect(refused).rejects.toThrow(SubjectKeyContendedError);
    await expect(refused).rejects.toThrow(`a data subject's key was erased each time it was made (${SUBJECT_KEY_MAKE_ATTEMPTS} times); try again`);
    expect(tries).toBe(SUBJECT_KEY_MAKE_ATTEMPTS);
  });

  it('given fields sealed for a guest, when opened by another process, then they read as plain; after erasure they read as the erased marker everywhere', async () => {
    const writer = new GuestDataCipher(storeOf());
    const [email, message] = await writer.seal(
      'm-1',
      ['guest:anna'],
      [
        { path: 'payload.guest.email', value: 'anna@example.com' },
        { path: 'payload.message', value: 'Late arrival, room 12' },
      ],
    );
    const readerCache = new SubjectKeyCache(60_000, 100);
    const reader = new GuestDataCipher(storeOf(ring, readerCache));
    const fields = [
      { path: 'payload.guest.email', value: email },
      { path: 'payload.message', value: message },
      { path: 'payload.guest.name', value: 'plain from before encryption' },
    ];
    expect(await reader.open('m-1', fields)).toEqual(['anna@example.com', 'Late arrival, room 12', 'plain from before encryption']);

    expect(await writer.erase('guest:anna')).toBe(true);
    expect(await writer.erase('guest:anna')).toBe(false);
    expect(await new GuestDataCipher(storeOf()).open('m-1', fields)).toEqual([ERASED_MARKER, ERASED_MARKER, 'plain from before encryption']);
    // The reader's cache still holds the key until its TTL: why DATA_KEY_CACHE_TTL_MS bounds how long other processes see an erased subject.
    readerCache.evict('guest:anna');
    expect(await reader.open('m-1', fields)).toEqual([ERASED_MARKER, ERASED_MARKER, 'plain from before encryption']);

    // The guest comes back: a new key, which does not open the old fields.
    const [again] = await writer.seal('m-2', ['guest:anna'], [{ path: 'payload.guest.email', value: 'anna@example.com' }]);
    expect(await writer.open('m-2', [{ path: 'payload.guest.email', value: again }])).toEqual(['anna@example.com']);
    expect(await writer.open('m-1', fields.slice(0, 1))).toEqual([ERASED_MARKER]);
  });

  it('given a process that cached a guest key, when another process erases the guest and the guest comes back, then the first seals under a new key, not the cached one', async () => {
    const sealer = new GuestDataCipher(storeOf());
    const [before] = await sealer.seal('m-1', ['guest:anna'], [{ path: 'payload.message', value: 'first stay' }]);
    expect(await new GuestDataCipher(storeOf()).erase('guest:anna')).toBe(true);

    // A result for the erased guest's mission is not sealed under the cached key.
    expect(await sealer.sealWithExistingKeys('m-1', ['guest:anna'], [{ path: 'output.reply', value: 'Dear Anna' }])).toBeNull();
    const [after] = await sealer.seal('m-2', ['guest:anna'], [{ path: 'payload.message', value: 'second stay' }]);
    expect(sealedToken(after, 'm-2').keys[0].kid).not.toBe(sealedToken(before, 'm-1').keys[0].kid);
    const reader = new GuestDataCipher(storeOf());
    expect(await reader.open('m-2', [{ path: 'payload.message', value: after }])).toEqual(['second stay']);
    expect(await reader.open('m-1', [{ path: 'payload.message', value: before }])).toEqual([ERASED_MARKER]);
  });

  it('given a field about two guests, when one of them is erased, then the field is erased for both', async () => {
    const cipher = new GuestDataCipher(storeOf());
    const [note] = await cipher.seal('m-1', ['guest:anna', 'guest:bob'], [{ path: 'description', value: 'Anna and Bob share room 12' }]);
    expect(await cipher.open('m-1', [{ path: 'description', value: note }])).toEqual(['Anna and Bob share room 12']);
    await cipher.erase('guest:bob');
    expect(await cipher.open('m-1', [{ path: 'description', value: note }])).toEqual([ERASED_MARKER]);
  });

  it('given a token moved to another mission, when opened, then the tampered error, not the erased marker', async () => {
    const cipher = new GuestDataCipher(storeOf());
    const [email] = await cipher.seal('m-1', ['guest:anna'], [{ path: 'payload.guest.email', value: 'anna@example.com' }]);
    await expect(cipher.open('m-2', [{ path: 'payload.guest.email', value: email }])).rejects.toMatchObject({ code: GuestDataErrorCode.Tampered });
  });

  it('given keys stored under another master key, when read, then the wrong-master-key error; after a rotation and rewrap, only the new key is needed', async () => {
    const oldSecret = secret();
    ring = MasterKeyRing.fromSecrets(oldSecret);
    const [email] = await new GuestDataCipher(storeOf()).seal('m-1', ['guest:anna'], [{ path: 'payload.guest.email', value: 'anna@example.com' }]);
    const field = [{ path: 'payload.guest.email', value: email }];

    const stranger = MasterKeyRing.fromSecrets(secret());
    const error = await new GuestDataCipher(storeOf(stranger)).open('m-1', field).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GuestDataError);
    expect((error as GuestDataError).code).toBe(GuestDataErrorCode.WrongMasterKey);
    expect(error).toMatchObject({ required: ring.current.id, configured: stranger.ids });

    const rotated = MasterKeyRing.fromSecrets(secret(), [oldSecret]);
    expect(await storeOf(rotated).rewrap()).toEqual({ rewrapped: 1, current: 0, changed: 0, notConfigured: [] });
    expect(await storeOf(rotated).rewrap()).toEqual({ rewrapped: 0, current: 1, changed: 0, notConfigured: [] });
    const onlyNew = new MasterKeyRing(rotated.current);
    expect(await new GuestDataCipher(storeOf(onlyNew)).open('m-1', field)).toEqual(['anna@example.com']);
  });

  it('given key records under a master key a ring lacks, then a sample names it, and only it; a record that is none is passed over', async () => {
    const old = MasterKeyRing.fromSecrets(secret());
    await storeOf(old).keysFor(['guest:anna', 'guest:bob']);
    await storeOf().keysFor(['guest:carla']);
    await redis.hset(keys.subjectKeys('guest:dora'), 'guest:dora', 'not a key record');

    expect(await storeOf().masterKeysNotConfigured()).toEqual([old.current.id]);
    expect(await storeOf(new MasterKeyRing(ring.current, [old.current])).masterKeysNotConfigured()).toEqual([]);
    expect(await storeOf(old).masterKeysNotConfigured()).toEqual([ring.current.id]);
  });

  it('given an exported record, when put into a store with the same master key, then it is stored once; another master key is refused', async () => {
    await storeOf().keysFor(['guest:anna']);
    const exported = await storeOf().records(keys.subjectKeys('guest:anna'));
    const record = exported.get('guest:anna');
    if (!record) throw new Error('no record exported');
    const target = new GuestDataKeys(testKeyPrefix('subject-keys-import'));
    try {
      const importer = new SubjectKeyStore(redis, target, ring, new SubjectKeyCache(0, 1));
      expect(await importer.putRecord('guest:anna', record)).toBe(true);
      expect(await importer.putRecord('guest:anna', record)).toBe(false);
      const foreign = new SubjectKeyStore(redis, target, MasterKeyRing.fromSecrets(secret()), new SubjectKeyCache(0, 1));
      await expect(foreign.putRecord('guest:bob', record)).rejects.toMatchObject({ code: GuestDataErrorCode.WrongMasterKey });
    } finally {
      await deleteKeysByPrefix(redis, target.prefix);
    }
  });

  it('given an enc:v1 field stored by an earlier build and a v3 group of the same subject, when opened together, then all read as plain, and all erase', async () => {
    // The key the golden v1 token of field-envelope.spec.ts was sealed with, as an import would store it.
    const dataKey = Buffer.alloc(32, 7);
    expect(
      await storeOf().putRecord('guest:anna', {
        kid: '0123456789abcdef',
        ...ring.wrap('guest:anna', '0123456789abcdef', dataKey),
        createdAt: '2026-12-01T00:00:00.000Z',
      }),
    ).toBe(true);
    const v1 = 'enc:v1:Z3Vlc3Q6YW5uYT0wMTIzNDU2Nzg5YWJjZGVm.uWpTgc99zzsORhcp.h9ZyjAAWUW8w3QEF7ffgqh4zgRXTg2cwtIyXVRUb';
    const cipher = new GuestDataCipher(storeOf());
    const [message, description] = await cipher.seal(
      'm-golden',
      ['guest:anna'],
      [
        { path: 'payload.message', value: 'Late arrival' },
        { path: 'description', value: 'Anna arrives late' },
      ],
    );
    expect(message.startsWith('enc:v3:guest:anna=0123456789abcdef/')).toBe(true);
    const fields = [
      { path: 'payload.guest.name', value: v1 },
      { path: 'payload.message', value: message },
      { path: 'description', value: description },
    ];
    expect(await cipher.open('m-golden', fields)).toEqual(['Anna Schmidt', 'Late arrival', 'Anna arrives late']);
    await cipher.erase('guest:anna');
    expect(await new GuestDataCipher(storeOf()).open('m-golden', fields)).toEqual([ERASED_MARKER, ERASED_MARKER, ERASED_MARKER]);
  });

  describe('groups (the fields of one part sealed as one message)', () => {
    const sealParts = async (cipher: GuestDataCipher) => {
      const input = await cipher.seal(
        'm-1',
        ['guest:anna'],
        [
          { path: 'description', value: 'Late check-out' },
          { path: 'payload.message', value: 'Bis 14 Uhr?' },
        ],
      );
      const output = await cipher.sealWithExistingKeys(
        'm-1',
        ['guest:anna'],
        [
          { path: 'output.reply', value: 'Gerne, bis 14 Uhr.' },
          { path: 'output.actions', value: ['note the late check-out'] },
        ],
      );
      return { input, output: output ?? [] };
    };

    it('given two groups of a mission (its input and an output), when opened together in any order, then each field is its value', async () => {
      const cipher = new GuestDataCipher(storeOf());
      const { input, output } = await sealParts(cipher);
      const fields = [
        { path: 'output.actions', value: output[1] },
        { path: 'payload.message', value: input[1] },
        { path: 'output.reply', value: output[0] },
        { path: 'description', value: input[0] },
      ];
      expect(await cipher.open('m-1', fields)).toEqual([['note the late check-out'], 'Bis 14 Uhr?', 'Gerne, bis 14 Uhr.', 'Late check-out']);
    });

    it("given a group's member without its holder, a place taken twice, or members in each other's fields, when opened, then the tampered error naming fields, never a value", async () => {
      const cipher = new GuestDataCipher(storeOf());
      const { input, output } = await sealParts(cipher);
      const refused = async (fields: { path: string; value: unknown }[]) => {
        const error = await cipher.open('m-1', fields).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(GuestDataError);
        expect((error as GuestDataError).code).toBe(GuestDataErrorCode.Tampered);
        expect((error as GuestDataError).message).not.toMatch(/14 Uhr|Late/);
        return (error as GuestDataError).message;
      };
      expect(
        await refused([
          { path: 'payload.message', value: input[1] },
          { path: 'output.reply', value: output[0] },
          { path: 'output.actions', value: output[1] },
        ]),
      ).toMatch(/payload\.message of mission m-1 \(naming a group that is not there\)/);
      expect(
        await refused([
          { path: 'description', value: input[0] },
          { path: 'payload.message', value: input[1] },
          { path: 'payload.guest.name', value: input[1] },
        ]),
      ).toMatch(/places are not 1, 2/);
      await refused([
        { path: 'output.actions', value: output[0] },
        { path: 'output.reply', value: output[1] },
      ]);
      // A member copied into another mission's fields names a group that mission does not hold.
      await refused([
        { path: 'description', value: input[0] },
        { path: 'output.reply', value: output[1] },
      ]);
    });

    it('given fields that hold no ciphertext at all, then a value shaped like a member is plain text and shown as it is', async () => {
      const cipher = new GuestDataCipher(storeOf());
      // Written before encryption (no subject): it only looks like a member of a group.
      expect(await cipher.open('m-1', [{ path: 'output.reply', value: 'enc:v3:AAAAAAAAAAAA#1' }])).toEqual(['enc:v3:AAAAAAAAAAAA#1']);
    });
  });

  it('given a subject id that is an e-mail address, then no key is made for it', async () => {
    await expect(storeOf().keysFor(['anna@example.com'])).rejects.toMatchObject({ code: GuestDataErrorCode.BadSubject });
  });
});

describe('subject key cache', () => {
  it('given entries beyond its size or older than its TTL, then they are gone; a TTL of 0 keeps nothing', () => {
    let now = 0;
    const cache = new SubjectKeyCache(1_000, 2, () => now);
    const key = (subject: string) => ({ subject, kid: 'k', key: Buffer.alloc(32) });
    cache.set(key('a'), cache.mark());
    cache.set(key('b'), cache.mark());
    cache.set(key('c'), cache.mark());
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')?.subject).toBe('c');
    now = 1_000;
    expect(cache.get('c')).toBeUndefined();
    const none = new SubjectKeyCache(0, 10);
    none.set(key('a'), none.mark());
    expect(none.size).toBe(0);
  });

  // Services sharing one cache read over connections of their own: a key read just before another
  // service erased the subject could arrive after the eviction, and used to be cached again.
  it('given a key read before its subject was evicted, when it arrives after, then it is not kept; one read after is', () => {
    const cache = new SubjectKeyCache(60_000, 10);
    const key = (subject: string) => ({ subject, kid: 'k', key: Buffer.alloc(32) });
    const readBefore = cache.mark();
    cache.evict('anna');
    cache.set(key('anna'), readBefore);
    expect(cache.get('anna')).toBeUndefined();
    // Another subject's eviction does not hold back this one's key.
    cache.set(key('ben'), readBefore);
    expect(cache.get('ben')?.subject).toBe('ben');
    cache.set(key('anna'), cache.mark());
    expect(cache.get('anna')?.subject).toBe('anna');
  });

  it('given more evictions than it lists, then a key read before the oldest it forgot is not kept either', () => {
    const cache = new SubjectKeyCache(60_000, 2);
    const readBefore = cache.mark();
    for (const subject of ['anna', 'ben', 'carla']) cache.evict(subject);
    cache.set({ subject: 'anna', kid: 'k', key: Buffer.alloc(32) }, readBefore);
    expect(cache.get('anna')).toBeUndefined();
  });
});

describe('subject keys shared by services of one process', () => {
  const redis = testRedisConnection('subject-key-store-shared-spec');
  const keys = new GuestDataKeys(testKeyPrefix('subject-keys-shared'));
  afterAll(async () => {
    await deleteKeysByPrefix(redis, keys.prefix);
    await redis.quit();
  });

  it('given a read answered before an erasure and handled after it, then the erased key does not come back into the shared cache', async () => {
    const ring = MasterKeyRing.fromSecrets(secret());
    const shared = new SubjectKeyCache(60_000, 100);
    const eraser = new SubjectKeyStore(redis, keys, ring, shared);
    const [made] = await eraser.keysFor(['guest:anna']);
    shared.evict('guest:anna');
    // The reader's connection: Redis answers its HGET while the key is still there, and the reply is
    // handled only once the erasure is done, as with two services' connections at the wrong moment.
    let answered: () => void = () => undefined;
    const hgetAnswered = new Promise<void>((resolve) => (answered = resolve));
    let release: () => void = () => undefined;
    const erasureDone = new Promise<void>((resolve) => (release = resolve));
    const late = new Proxy(redis, {
      get: (target, property, receiver) =>
        property === 'hget'
          ? async (...args: [string, string]) => {
              const reply = await target.hget(...args);
              answered();
              await erasureDone;
              return reply;
            }
          : Reflect.get(target, property, receiver),
    });
    const reader = new SubjectKeyStore(late, keys, ring, shared);

    const read = reader.existingKeys(['guest:anna']);
    await hgetAnswered;
    expect(await eraser.destroy('guest:anna')).toBe(true);
    release();

    expect((await read).get('guest:anna')?.kid).toBe(made.kid);
    expect(shared.get('guest:anna')).toBeUndefined();
  });
});
