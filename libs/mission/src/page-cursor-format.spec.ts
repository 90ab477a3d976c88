import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  formatPageCursor,
  isSealedPageCursor,
  MAX_PAGE_CURSOR_LENGTH,
  openPageCursor,
  PageCursorPosition,
  parsePageCursor,
  sealPageCursor,
} from './page-cursor-format';

const BINDING = 'AAECAwQFBgcI';
const position = fc.oneof(
  fc.constant<PageCursorPosition>({ s: null, m: null }),
  fc.record({ s: fc.maxSafeInteger(), m: fc.constant(null) }),
  fc.record({ s: fc.maxSafeInteger(), m: fc.uuid({ version: 7 }) }),
);

describe('sealed page cursors (a client key’s)', () => {
  const key = randomBytes(32);

  it('given any cursor, then sealed under a key it opens under that key to the same cursor, and names none of its missions', () => {
    fc.assert(
      fc.property(fc.array(position, { minLength: 1, maxLength: 8 }), (positions) => {
        const cursor = formatPageCursor(BINDING, positions);
        const sealed = sealPageCursor(cursor, key);
        expect(isSealedPageCursor(sealed)).toBe(true);
        expect(parsePageCursor(sealed)).toBeNull();
        expect(openPageCursor(sealed, [key])).toBe(cursor);
        const bytes = Buffer.from(sealed, 'base64url').toString('hex');
        for (const { m } of positions) if (m) expect(bytes).not.toContain(m.replace(/-/g, ''));
      }),
    );
  });

  it('given a key being rotated, then a cursor sealed under either of its two secrets’ keys opens', () => {
    const next = randomBytes(32);
    const cursor = formatPageCursor(BINDING, [{ s: 1_777_000_000_000, m: '019a0000-0000-7000-8000-000000000001' }]);
    expect(openPageCursor(sealPageCursor(cursor, key), [next, key])).toBe(cursor);
    expect(openPageCursor(sealPageCursor(cursor, next), [next, key])).toBe(cursor);
  });

  it('given another key, a changed byte, a cursor in plain or no cursor, then it does not open', () => {
    const cursor = formatPageCursor(BINDING, [{ s: 1_777_000_000_000, m: '019a0000-0000-7000-8000-000000000001' }]);
    const sealed = sealPageCursor(cursor, key);
    expect(openPageCursor(sealed, [randomBytes(32)])).toBeUndefined();
    const bytes = Buffer.from(sealed, 'base64url');
    for (const at of [1, 14, bytes.length - 1]) {
      const changed = Buffer.from(bytes);
      changed[at] ^= 1;
      expect(openPageCursor(changed.toString('base64url'), [key])).toBeUndefined();
    }
    expect(openPageCursor(cursor, [key])).toBeUndefined();
    expect(isSealedPageCursor(cursor)).toBe(false);
    for (const raw of ['', 'abc', 'A'.repeat(MAX_PAGE_CURSOR_LENGTH + 1)]) expect(openPageCursor(raw, [key])).toBeUndefined();
  });

  it('given the most partitions a deployment may have, then the sealed cursor is within MAX_PAGE_CURSOR_LENGTH', () => {
    const positions = Array.from({ length: 256 }, () => ({ s: -Number.MAX_SAFE_INTEGER, m: '019a0000-0000-7000-8000-000000000001' }));
    const sealed = sealPageCursor(formatPageCursor(BINDING, positions), key);
    expect(sealed.length).toBeLessThanOrEqual(MAX_PAGE_CURSOR_LENGTH);
    expect(isSealedPageCursor(sealed)).toBe(true);
  });
});
