import { randomBytes } from 'node:crypto';
import { MissionCreateDto, plainBodyFingerprint } from '@app/mission';
import { createFingerprints } from './create-fingerprints';
import { MasterKeyRing } from './master-key-ring';

const secret = () => randomBytes(32).toString('base64url');

const body: MissionCreateDto = {
  type: 'guest_support',
  title: 'Towels for room 204',
  description: 'Guest writes: two more towels, please',
  priority: 'normal',
  payload: { room: '204', guest: { id: 'g-4711', name: 'Anna Schmidt', email: 'anna.schmidt@example.com' }, message: 'two more towels, please' },
};

/** Every fingerprint of the body that a stored record may hold and still match. */
const matching = (ring: MasterKeyRing, input: MissionCreateDto) => {
  const { fingerprint, formerFingerprints } = createFingerprints(ring, input);
  return [fingerprint, ...formerFingerprints];
};

describe('create fingerprints (idempotency records)', () => {
  it('given the same master key, then the fingerprint is the same for the same body, whatever its key order or null fields; another body, another fingerprint', () => {
    const key = secret();
    const reordered = { payload: body.payload, priority: 'normal', description: body.description, title: body.title, type: 'guest_support', deadline: null };
    const fingerprint = createFingerprints(MasterKeyRing.fromSecrets(key), body).fingerprint;
    expect(createFingerprints(MasterKeyRing.fromSecrets(key), reordered as unknown as MissionCreateDto).fingerprint).toBe(fingerprint);
    expect(createFingerprints(MasterKeyRing.fromSecrets(key), { ...body, title: 'Towels for room 205' }).fingerprint).not.toBe(fingerprint);
  });

  it('given a fixed master key, then a body fingerprints as it did: records stored under it must still match after an upgrade', () => {
    // HMAC-SHA256 of the canonical body under HKDF-SHA256(master key, info "brain idempotency fingerprint v1"), computed apart from this code.
    const ring = MasterKeyRing.fromSecrets('fixed-master-key-for-fingerprints-0123456789');
    expect(createFingerprints(ring, body).fingerprint).toBe('eed9200ba503e016d3d1758f1e06cc12f635d01fcad62c2ee8c846ea61baac63');
  });

  it('given two master keys, then they fingerprint the same body differently, and neither as the plain SHA-256 a Redis dump could confirm', () => {
    const one = createFingerprints(MasterKeyRing.fromSecrets(secret()), body).fingerprint;
    const other = createFingerprints(MasterKeyRing.fromSecrets(secret()), body).fingerprint;
    expect(one).not.toBe(other);
    expect([one, other]).not.toContain(plainBodyFingerprint(body));
    // 64 hex digits, as the append script reads a record's fingerprint (never a withdrawn key's 0 or 00).
    for (const fingerprint of [one, other]) expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('given a ring with previous master keys, then a record made under any of them, or before fingerprints were keyed, matches the same body; none matches another body', () => {
    const [older, old, current] = [secret(), secret(), secret()];
    const rotated = MasterKeyRing.fromSecrets(current, [old, older]);
    const fingerprints = createFingerprints(rotated, body);
    expect(fingerprints.fingerprint).toBe(createFingerprints(MasterKeyRing.fromSecrets(current), body).fingerprint);
    expect(fingerprints.formerFingerprints).toEqual([
      createFingerprints(MasterKeyRing.fromSecrets(old), body).fingerprint,
      createFingerprints(MasterKeyRing.fromSecrets(older), body).fingerprint,
      plainBodyFingerprint(body),
    ]);
    const another = { ...body, payload: { ...body.payload, message: 'one more towel, please' } };
    expect(matching(rotated, another).filter((fingerprint) => matching(rotated, body).includes(fingerprint))).toEqual([]);
  });

  it('given a rotation (the new key added as a previous one, then promoted), then processes on either side of each restart match what the other stored', () => {
    const [old, next] = [secret(), secret()];
    const before = MasterKeyRing.fromSecrets(old);
    const added = MasterKeyRing.fromSecrets(old, [next]);
    const promoted = MasterKeyRing.fromSecrets(next, [old]);
    const dropped = MasterKeyRing.fromSecrets(next);
    expect(matching(added, body)).toContain(createFingerprints(before, body).fingerprint);
    expect(matching(promoted, body)).toContain(createFingerprints(added, body).fingerprint);
    expect(matching(added, body)).toContain(createFingerprints(promoted, body).fingerprint);
    // Once the old key is dropped, a record made under it no longer matches: a retry is refused as another body.
    expect(matching(dropped, body)).not.toContain(createFingerprints(before, body).fingerprint);
  });
});
