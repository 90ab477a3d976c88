import { randomBytes } from 'node:crypto';
import { openPageCursor, sealPageCursor } from '@app/mission';
import { ApiKey } from './api-key';
import { ApiKeyStore } from './api-key-store';

function key(name: string, role: ApiKey['role'] = 'reader'): ApiKey {
  return { name, secret: randomBytes(24).toString('base64url'), role };
}

describe('ApiKeyStore', () => {
  const ops = key('ops', 'operator');
  const ci = key('ci', 'submitter');
  const store = new ApiKeyStore([ops, ci]);

  it('given a known secret, then it finds that key as a caller without its secret', () => {
    expect(store.find(ci.secret)).toEqual({ name: 'ci', role: 'submitter' });
    expect(store.find(ops.secret)).toEqual({ name: 'ops', role: 'operator' });
  });

  it('given an unknown, empty, prefixed or extended secret, then it finds nothing', () => {
    expect(store.find('not-a-key-0123456789')).toBeUndefined();
    expect(store.find('')).toBeUndefined();
    expect(store.find(ops.secret.slice(0, -1))).toBeUndefined();
    expect(store.find(`${ops.secret}x`)).toBeUndefined();
  });

  it('given no keys at all, then every secret is rejected', () => {
    expect(new ApiKeyStore([]).find(ops.secret)).toBeUndefined();
  });

  it('given many keys, then it finds each one, including the first and the last', () => {
    const keys = Array.from({ length: 500 }, (_, i) => key(`k${i}`));
    const many = new ApiKeyStore(keys);
    expect(many.size).toBe(500);
    for (const index of [0, 1, 250, 498, 499]) expect(many.find(keys[index].secret)?.name).toBe(`k${index}`);
    expect(many.find('missing-0123456789abcdef')).toBeUndefined();
  });

  it('given a lookup, then every key is compared, not only those before a match', () => {
    const crypto = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      const keys = Array.from({ length: 20 }, (_, i) => key(`k${i}`));
      const twenty = new ApiKeyStore(keys);
      spy.mockClear();
      twenty.find(keys[0].secret);
      expect(spy).toHaveBeenCalledTimes(20);
    } finally {
      spy.mockRestore();
    }
  });

  it('given a client key rotated as the docs say (new secret listed after the old, then the old removed), then what it was handed during the overlap still opens', () => {
    const old = key('partner', 'client');
    const next = { ...key('partner', 'client') };
    const cursor = 'AgAAAAAAAAAAAAAA';
    const overlap = new ApiKeyStore([old, next]).clientSealingKeys({ name: 'partner', role: 'client' }, 'test purpose') ?? [];
    const sealed = sealPageCursor(cursor, overlap[0]);
    // It sealed with the first listed, the old one, which step 3 removes: every cursor and stream position broke then.
    const after = new ApiKeyStore([next]).clientSealingKeys({ name: 'partner', role: 'client' }, 'test purpose') ?? [];
    expect(openPageCursor(sealed, after)).toBe(cursor);
    // What the old secret alone sealed, before the overlap, still opens during it.
    const before = new ApiKeyStore([old]).clientSealingKeys({ name: 'partner', role: 'client' }, 'test purpose') ?? [];
    expect(openPageCursor(sealPageCursor(cursor, before[0]), overlap)).toBe(cursor);
  });

  it('given any role but client, then there is nothing to seal: it sees every mission', () => {
    expect(store.clientSealingKeys({ name: 'ops', role: 'operator' }, 'test purpose')).toBeUndefined();
  });
});
