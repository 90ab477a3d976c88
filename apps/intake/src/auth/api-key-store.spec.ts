import { randomBytes } from 'node:crypto';
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
});
