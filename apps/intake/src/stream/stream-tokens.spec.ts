import { ApiKey } from '../auth/api-key';
import { ApiKeyStore } from '../auth/api-key-store';
import { STREAM_TOKEN_TTL_MS, StreamTokens } from './stream-tokens';

const OPS: ApiKey = { name: 'ops', secret: 'stream-token-spec-secret-1', role: 'operator' };
const DESK: ApiKey = { name: 'desk', secret: 'stream-token-spec-secret-2', role: 'reader' };

describe('StreamTokens', () => {
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    now = Date.parse('2026-12-03T08:00:00Z');
  });

  it('given a token, then it stands for its key until it expires, and not a millisecond after', () => {
    const tokens = new StreamTokens(new ApiKeyStore([OPS, DESK]), clock);
    const issued = tokens.issue('desk');
    expect(issued.expiresAt).toBe('2026-12-03T08:01:00.000Z');
    expect(tokens.verify(issued.token)).toEqual({ name: 'desk', role: 'reader' });
    now += STREAM_TOKEN_TTL_MS - 1;
    expect(tokens.verify(issued.token)).toEqual({ name: 'desk', role: 'reader' });
    now += 1;
    expect(tokens.verify(issued.token)).toBeUndefined();
  });

  it("given another instance with the same keys, then it accepts the token; given the key's secret changed or the key gone, then not", () => {
    const issued = new StreamTokens(new ApiKeyStore([OPS, DESK]), clock).issue('ops');
    expect(new StreamTokens(new ApiKeyStore([DESK, OPS]), clock).verify(issued.token)).toEqual({ name: 'ops', role: 'operator' });
    expect(new StreamTokens(new ApiKeyStore([{ ...OPS, secret: 'stream-token-spec-secret-3' }]), clock).verify(issued.token)).toBeUndefined();
    expect(new StreamTokens(new ApiKeyStore([DESK]), clock).verify(issued.token)).toBeUndefined();
  });

  it('given a key being rotated, then tokens signed before and after are accepted during it, and one the old secret signed is void once it is removed', () => {
    const NEW_OPS: ApiKey = { ...OPS, secret: 'stream-token-spec-secret-4' };
    const before = new StreamTokens(new ApiKeyStore([OPS]), clock).issue('ops');
    const during = new StreamTokens(new ApiKeyStore([OPS, NEW_OPS]), clock);
    const after = new StreamTokens(new ApiKeyStore([NEW_OPS]), clock);
    expect(during.verify(before.token)).toEqual({ name: 'ops', role: 'operator' });
    expect(during.verify(after.issue('ops').token)).toEqual({ name: 'ops', role: 'operator' });
    expect(after.verify(during.issue('ops').token)).toBeUndefined();
  });

  it("given the key's role changed, then the token carries the role it has now", () => {
    const issued = new StreamTokens(new ApiKeyStore([OPS]), clock).issue('ops');
    expect(new StreamTokens(new ApiKeyStore([{ ...OPS, role: 'reader' }]), clock).verify(issued.token)).toEqual({ name: 'ops', role: 'reader' });
  });

  it('given a token whose payload names another key or a later expiry, then the MAC no longer matches', () => {
    const tokens = new StreamTokens(new ApiKeyStore([OPS, DESK]), clock);
    const [version, , mac] = tokens.issue('desk').token.split('.');
    for (const claims of [
      { n: 'ops', e: now + STREAM_TOKEN_TTL_MS },
      { n: 'desk', e: now + 10 * STREAM_TOKEN_TTL_MS },
    ]) {
      expect(tokens.verify(`${version}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`)).toBeUndefined();
    }
    for (const junk of ['', 'v1', 'v1..', 'v2.e30.x', 'v1.bm90IGpzb24.x', 'v1.e30.x.y', 'v1.WzFd.x']) expect(tokens.verify(junk)).toBeUndefined();
  });
});
